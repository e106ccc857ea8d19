-- wrk script: GET one ticket with a bearer token.
--   wrk -s get.lua ... URL -- TOKEN TICKET_ID [DELAY_MS]
function init(args)
   req = wrk.format("GET", "/api/v1/tickets/" .. args[2], { ["Authorization"] = "Bearer " .. args[1] })
   pause = tonumber(args[3] or "0")
end

function request()
   return req
end

-- with a pause, each connection sends one request per pause: a paced load
function delay()
   return pause
end
