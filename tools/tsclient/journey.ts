// A new person's first minutes, written only against the types generated from /openapi.json:
// `tsc --strict` refuses it as soon as a path, a parameter or a body drifts from the contract.
// Run with: node generated/out/journey.js BASE_URL VIDEO_FILE
import { readFile } from "node:fs/promises";
import createClient from "openapi-fetch";
import type { paths } from "./generated/schema.js";

function usage(): never {
  throw new Error("usage: journey.js BASE_URL VIDEO_FILE");
}
const baseUrl: string = process.argv[2] ?? usage();
const videoFile: string = process.argv[3] ?? usage();
const PASSWORD = "a quiet walk by the sea";

type Client = ReturnType<typeof createClient<paths>>;

function ok<T>(what: string, answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.data === undefined) {
    throw new Error(`${what}: ${answer.response.status} ${JSON.stringify(answer.error)}`);
  }
  return answer.data;
}

async function signUp(handle: string): Promise<{ client: Client; id: string }> {
  const anonymous = createClient<paths>({ baseUrl });
  const auth = ok(
    "sign up",
    await anonymous.POST("/v1/auth/signup", {
      body: { email: `${handle}@example.com`, password: PASSWORD, handle, display_name: handle },
    }),
  );
  const client = createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${auth.tokens.access_token}` },
  });
  return { client, id: auth.user.id };
}

async function untilReady(client: Client, id: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const memory = ok(
      "read the memory",
      await client.GET("/v1/memories/{id}", { params: { path: { id } } }),
    );
    if (memory.status === "ready") return;
    if (memory.status === "failed") throw new Error(`processing failed: ${JSON.stringify(memory)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error("the memory never became ready");
}

const ana = await signUp("ana");
const me = ok("edit the note", await ana.client.PATCH("/v1/me", { body: { note: "첫눈 오는 날" } }));
if (me.note !== "첫눈 오는 날") throw new Error(`note not kept: ${me.note}`);

const video = await readFile(videoFile);
const grant = ok(
  "ask for an upload",
  await ana.client.POST("/v1/uploads", {
    body: { purpose: "clip", content_type: "video/mp4", size_bytes: video.byteLength },
  }),
);
const put = await fetch(grant.upload_url, { method: grant.method, headers: grant.headers, body: video });
if (!put.ok) throw new Error(`upload: ${put.status} ${await put.text()}`);

const memory = ok(
  "create a memory",
  await ana.client.POST("/v1/memories", {
    body: { clips: [{ upload_id: grant.id }], caption: "First snow #첫눈", visibility: "public" },
    params: { header: { "Idempotency-Key": `journey-${grant.id}` } },
  }),
);
await untilReady(ana.client, memory.id);

const ben = await signUp("ben");
ok("follow", await ben.client.POST("/v1/users/{handle}/follow", { params: { path: { handle: "ana" } } }));
const home = ok("read the home feed", await ben.client.GET("/v1/feed/home", { params: { query: {} } }));
if (!home.items.some((item) => item.id === memory.id)) throw new Error("the memory is not in the feed");

const clapped = ok(
  "clap",
  await ben.client.POST("/v1/memories/{id}/claps", {
    params: { path: { id: memory.id } },
    body: { count: 3 },
  }),
);
if (clapped.my_claps !== 3) throw new Error(`claps: ${clapped.my_claps}`);

const notifications = ok("read notifications", await ana.client.GET("/v1/notifications", {}));
if (!notifications.items.some((item) => item.kind === "claps")) {
  throw new Error(`no clap notification: ${JSON.stringify(notifications.items)}`);
}

const report = ok(
  "report",
  await ben.client.POST("/v1/reports", {
    body: { target: { kind: "memory", id: memory.id }, reason: "spam" },
  }),
);
const points = ok("read points", await ana.client.GET("/v1/me/points", {}));
console.log(JSON.stringify({ memory: memory.id, report: report.id, balance: points.balance }));
