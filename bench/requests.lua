-- Replays pre-signed webhook requests, each thread its own share, so every MessageSid is new.
local threads, counter = {}, 0
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
local reqs, i = {}, 0
function init(args)
  local n, total = 0, tonumber(args[2])
  for line in io.lines(args[1]) do
    if n % total == id then
      local sig, body = line:match("([^\t]+)\t(.*)")
      reqs[#reqs + 1] = wrk.format("POST", "/webhooks/twilio/messages",
        {["Content-Type"] = "application/x-www-form-urlencoded", ["X-Twilio-Signature"] = sig}, body)
    end
    n = n + 1
  end
end
function request()
  i = i + 1
  if i > #reqs then i = 1 end  -- wrapped: the file was too short for the run (reported)
  return reqs[i]
end
