-- Load for `imagebot serve`: POST /v1/answer. Messages cycle through the 8
-- below (answers, a follow-up, a problem report, a mirror decline). Every
-- 8th request starts a new session; the others continue a session the
-- server issued earlier (ids taken from its replies). Requests come "from"
-- 1,000 client addresses through X-Forwarded-For, so run the server with
-- `--trust-proxy 127.0.0.1`:
--   imagebot serve --addr 127.0.0.1:8080 --trust-proxy 127.0.0.1 --rate-limit off --ip-rate-limit off
--   wrk -t2 -c100 -d10s --latency -s scripts/wrk-answer.lua http://127.0.0.1:8080
local messages = {
  "共享镜像要付费吗？",
  "那公共镜像呢？",
  "自定义镜像每天能操作几次",
  "我的镜像启动不了了",
  "How are images billed?",
  "镜像可以下载到本地吗",
  "Docker 镜像仓库怎么搭建",
  "如何创建自定义镜像",
}

local n = 0
local ids = {}
wrk.method = "POST"

request = function()
  local message = messages[(n % #messages) + 1]
  local body
  if n % #messages ~= 0 and #ids > 0 then
    body = string.format('{"message":"%s","session_id":"%s"}', message, table.remove(ids, 1))
  else
    body = string.format('{"message":"%s"}', message)
  end
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Forwarded-For"] = string.format("10.9.%d.%d", math.floor(n / 250) % 4, n % 250 + 1),
  }
  n = n + 1
  return wrk.format(nil, "/v1/answer", headers, body)
end

response = function(status, headers, body)
  local id = string.match(body, '"session_id":"(%x+)"')
  if id and #ids < 1000 then
    table.insert(ids, id)
  end
end
