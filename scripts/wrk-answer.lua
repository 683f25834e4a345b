-- Load for `imagebot serve`: POST /v1/answer. Each session gets the 8
-- messages below in turn (answers, a follow-up, a problem report, a mirror
-- decline); 500 sessions per wrk thread, reused. Run:
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

local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local n = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local body = string.format('{"message":"%s","session_id":"wrk-%d-%d"}',
    messages[(n % #messages) + 1], tid or 0, math.floor(n / #messages) % 500)
  n = n + 1
  return wrk.format(nil, "/v1/answer", nil, body)
end
