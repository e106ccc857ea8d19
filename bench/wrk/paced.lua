-- wrk script: a paced load on any URL: each connection waits DELAY_MS
-- between requests, so C connections send about C * 1000 / DELAY_MS
-- requests per second (wrk 4 has no -R).
--   wrk -s paced.lua ... URL -- DELAY_MS
function init(args)
   pause = tonumber(args[1] or "10")
end

function delay()
   return pause
end
