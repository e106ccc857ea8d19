-- wrk script: POST /webhooks/tickets with pre-signed requests (see
-- bench/sign_requests.c). Each wrk thread takes every n-th line of the file,
-- so that no two requests carry the same ticket id.
--   wrk -s intake.lua ... URL -- FILE THREADS [DELAY_MS]
-- With DELAY_MS each connection waits that long between requests (a paced
-- load: C connections send about C * 1000 / DELAY_MS requests per second).
local counter = 0
local threads = {}

function setup(thread)
   thread:set("tid", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

function init(args)
   local file, nthreads = args[1], tonumber(args[2])
   pause = tonumber(args[3] or "0")
   reqs = {}
   idx = 0
   local n = 0
   for line in io.lines(file) do
      if n % nthreads == tid then
         local ts, sig, body = line:match("^(%d+)\t([^\t]+)\t(.*)$")
         reqs[#reqs + 1] = wrk.format("POST", "/webhooks/tickets", {
            ["Content-Type"] = "application/json",
            ["X-Frontline-Timestamp"] = ts,
            ["X-Frontline-Signature"] = sig,
         }, body)
      end
      n = n + 1
   end
   used = 0
end

function request()
   idx = idx + 1
   if idx > #reqs then
      idx = 1   -- repeats are idempotent (200), counted separately by the bench
   end
   used = used + 1
   return reqs[idx]
end

function delay()
   return pause
end
