// The page's script: the form checked and previewed as it changes, saving, building, the queue.
"use strict";

const form = document.getElementById("profile");
const HEADERS = { "X-Voiceguide": "1" };
let checking = null;
let again = false;
let timer = null;
let pending = false; // a change not yet sent
let watched = null;

function formData({ withFiles = false } = {}) {
  const data = new FormData(form);
  if (!withFiles) data.delete("music");
  return data;
}

async function post(url, data) {
  const response = await fetch(url, { method: "POST", body: data, headers: HEADERS });
  let body;
  try {
    body = await response.json();
  } catch {
    body = { ok: false, error: `the server answered ${response.status}` };
  }
  return { status: response.status, body };
}

function showErrors(body) {
  for (const element of document.querySelectorAll("[data-error-for]")) {
    if (element.dataset.errorFor === "upload") continue;
    const messages = (body.errors || {})[element.dataset.errorFor] || [];
    element.textContent = messages.join(" ");
    const control = document.getElementById(`f-${element.dataset.errorFor}`);
    if (control) control.setAttribute("aria-invalid", messages.length ? "true" : "false");
  }
  const problems = document.getElementById("problems");
  problems.replaceChildren(
    ...[...(body.problems || []), ...(body.error ? [body.error] : [])].map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }),
  );
}

function showEffective(body) {
  for (const element of document.querySelectorAll("[data-effective-for]")) {
    const found = (body.effective || {})[element.dataset.effectiveFor];
    element.textContent = found ? `now: ${found.value} (${found.source})` : "";
  }
}

function showPreview(body) {
  const preview = body.preview;
  const total = document.getElementById("total");
  if (!preview) {
    total.textContent = body.ok === false ? "(correct the values marked)" : "…";
    delete total.dataset.ms;
    document.getElementById("speaker").textContent = "";
    return;
  }
  total.textContent = preview.total;
  total.dataset.ms = String(preview.total_ms);
  document.getElementById("speaker").textContent = `spoken by ${preview.speaker}`;
  document.getElementById("effective").textContent = preview.effective;
  document.getElementById("script").textContent = preview.table;
  document.getElementById("overruns-section").hidden = preview.overruns.length === 0;
  document.getElementById("overruns").replaceChildren(
    ...preview.overruns.map((text) => {
      const item = document.createElement("li");
      item.textContent = text;
      return item;
    }),
  );
}

async function check() {
  if (checking) {
    again = true;
    return;
  }
  pending = false;
  form.dataset.state = "checking";
  document.getElementById("total").classList.add("stale");
  document.getElementById("speaker").textContent = "measuring the speech…";
  checking = post("api/check", formData());
  try {
    const { body } = await checking;
    showErrors(body);
    showEffective(body);
    showPreview(body);
  } finally {
    checking = null;
    document.getElementById("total").classList.remove("stale");
    // (a change made meanwhile is checked next: the page says "checked" only of its last values)
    form.dataset.state = pending || again ? "changed" : "checked";
    if (again) {
      again = false;
      check();
    }
  }
}

function soon() {
  clearTimeout(timer);
  pending = true;
  form.dataset.state = "changed";
  timer = setTimeout(check, 350);
}

form.addEventListener("input", (event) => {
  if (event.target.type !== "file") soon();
});
form.addEventListener("change", (event) => {
  if (event.target.type !== "file") soon();
});

document.getElementById("save").addEventListener("click", async () => {
  const saved = document.getElementById("saved");
  saved.textContent = "saving…";
  const { status, body } = await post("api/save", formData());
  showErrors(body);
  showEffective(body);
  saved.textContent = status === 200 ? `saved as ${body.saved}` : "not saved: correct the values marked";
});

async function build(weeks) {
  const data = formData({ withFiles: true });
  if (weeks) data.set("program", "1");
  else data.delete("weeks");
  const { body } = await post("api/build", data);
  showErrors(body);
  if (body.build) {
    watched = body.build.id;
    poll();
  }
}

document.getElementById("build").addEventListener("click", () => build(false));
document.getElementById("build-weeks").addEventListener("click", () => build(true));

function describe(build) {
  if (build.state === "waiting") return `waiting (number ${build.position} in the queue)`;
  if (build.state === "building") {
    const of = build.sessions > 1 ? `, session ${build.done + 1} of ${build.sessions}` : "";
    return `building: ${build.percent}% (${build.stage || "starting"}${of})`;
  }
  if (build.state === "failed") return `failed: ${build.message}`;
  return `done: ${build.outputs.join(", ")}`;
}

function showQueue(builds) {
  const queue = document.getElementById("queue");
  queue.replaceChildren(
    ...builds.map((build) => {
      const item = document.createElement("li");
      item.dataset.build = String(build.id);
      item.dataset.state = build.state;
      const title = document.createElement("strong");
      title.textContent = build.title;
      const progress = document.createElement("progress");
      progress.max = 100;
      progress.value = build.percent;
      const text = document.createElement("span");
      text.className = "status";
      text.textContent = ` ${describe(build)}`;
      item.append(title, " ", progress, text);
      return item;
    }),
  );
  const mine = builds.find((build) => build.id === watched);
  if (mine && mine.state === "done") showSession(mine);
}

function showSession(build) {
  const player = document.getElementById("player");
  const audio = document.getElementById("audio");
  const session = build.files.find((file) => file.name.endsWith(".mp3"));
  if (session && audio.dataset.src !== session.url) {
    audio.dataset.src = session.url;
    audio.src = `${session.url}?v=${build.id}`;
  }
  document.getElementById("downloads").replaceChildren(
    ...build.files.map((file) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = file.url;
      link.download = file.name;
      link.textContent = file.name;
      item.append(link);
      return item;
    }),
  );
  player.hidden = false;
}

async function poll() {
  const response = await fetch("api/builds");
  const body = await response.json();
  showQueue(body.builds);
  const busy = body.builds.some((build) => build.state === "waiting" || build.state === "building");
  if (busy) setTimeout(poll, 700);
}

const upload = document.getElementById("upload-plan");
if (upload) {
  upload.addEventListener("submit", async (event) => {
    event.preventDefault();
    const shown = upload.querySelector("[data-error-for=upload]");
    const { status, body } = await post("api/plans", new FormData(upload));
    if (status === 201) {
      window.location.search = `?plan=${encodeURIComponent(body.plan)}&profile=${encodeURIComponent(form.dataset.profile)}`;
    } else {
      shown.textContent = body.error || "the plan was not added";
    }
  });
}

document.getElementById("plan-choice").addEventListener("change", () => {
  document.getElementById("choose").submit();
});

check();
poll();
