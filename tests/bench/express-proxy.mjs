// The peer of the server half's benchmark: the proxy people write by hand
// in Express 5, no policy at all. Everything under /api/conferbot is sent to
// the upstream with the key added (fetch), and the answer's status, headers
// (but hop-by-hop ones) and body are copied back. `{upstream}` is its JSON
// argument, the key CONFERBOT_API_KEY.
import express from "express";

const { upstream } = JSON.parse(process.argv[2]);
const key = process.env.CONFERBOT_API_KEY;
const HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-encoding", "content-length"]);

const app = express();
app.disable("x-powered-by");
app.use("/api/conferbot", async (req, res) => {
  const answer = await fetch(`${upstream}${req.url}`, { method: req.method, headers: { "x-api-key": key, accept: "application/json" } });
  res.status(answer.status);
  for (const [name, value] of answer.headers) if (!HOP.has(name)) res.setHeader(name, value);
  res.send(Buffer.from(await answer.arrayBuffer()));
});
const server = app.listen(0, "127.0.0.1", () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
server.keepAliveTimeout = 60_000;
process.on("SIGTERM", () => process.exit(0));
