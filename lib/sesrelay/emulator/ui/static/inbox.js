// The emulator's inbox page. It reads the emulator's JSON (/_emulator/inbox, /inbox/<id>, /tasks,
// /receivers, /templates) and polls for new mail. Every value from a mail is put in the page as text
// (textContent, attributes), never parsed as HTML; a mail's HTML is shown only in a sandboxed
// iframe from /_emulator/ui/mail/<id>.html, a document that may run and fetch nothing.
"use strict";

(() => {
  const POLL_MS = 500;
  const TASK_STATUS = { 1: "pending", 5: "sending", 7: "error", 10: "done" };
  const TASK_TYPE = { 1: "immediate", 2: "scheduled", 3: "recurring" };
  const GROUP_STATUS = { 1: "empty", 2: "uploading", 3: "complete" };
  const TEMPLATE_STATUS = { 0: "approved", 1: "under review", 2: "rejected" };
  // What became of an event's callback: [short, long].
  const CALLBACK = {
    sent: ["posted", "posted to the callback URL"],
    failed: ["post failed", "posting to the callback URL failed"],
    pending: ["posting", "being posted to the callback URL"],
    skipped: ["not posted", "not posted: no callback URL is set"],
  };
  const callback = (status, long) => (CALLBACK[status] || [status, status])[long ? 1 : 0];

  const state = {
    version: null, // the inbox version last shown; the emulator answers "unchanged" to it
    query: "",
    selected: null, // id of the open mail
    shownHtmlOf: null, // id whose HTML the iframe holds (reloaded only when it changes)
    part: "html",
    tab: "mail",
    polling: false,
    again: false,
    timer: null,
  };

  const $ = (id) => document.getElementById(id);

  // An element with text and attributes; children are elements or strings (as text nodes).
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  const pad = (n) => String(n).padStart(2, "0");
  function when(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  function size(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  }

  async function getJson(url) {
    const reply = await fetch(url, { cache: "no-store", credentials: "omit" });
    const body = await reply.json().catch(() => ({}));
    if (!reply.ok) throw new Error(body.error || `${url} answered HTTP ${reply.status}`);
    return body;
  }

  function setLive(ok, why) {
    const live = $("live");
    live.textContent = ok ? "live" : `offline: ${why}`;
    live.classList.toggle("down", !ok);
  }

  function eventChips(events) {
    const box = el("span", { class: "chips" });
    for (const e of events || []) {
      box.append(el("span", {
        class: `chip ${e.event} ${e.status}`,
        title: `${e.event}: ${callback(e.status, true)}`,
        text: e.event,
      }));
    }
    return box;
  }

  // -- the list ---------------------------------------------------------------------------------

  function mailRow(m) {
    const ref = m.task_id !== null ? `task ${m.task_id}` : m.message_id;
    const row = el("tr", {
      tabindex: "0",
      "data-id": m.id,
      "aria-selected": String(m.id === state.selected),
    },
    el("td", { class: "time", title: m.sent_at, text: when(m.sent_at) }),
    el("td", { class: "addr", title: m.from, text: m.from }),
    el("td", { class: "addr to", title: m.to, text: m.to }),
    el("td", { class: "subject", text: m.subject }),
    el("td", { class: "ref", title: m.message_id, text: ref }),
    el("td", { class: "delivery" }, eventChips(m.events)));
    row.addEventListener("click", () => openMail(m.id));
    row.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") openMail(m.id);
    });
    return row;
  }

  function renderList(data) {
    $("mails").tBodies[0].replaceChildren(...data.mails.map(mailRow));
    $("mail-count").textContent = String(data.total);
    const empty = $("empty");
    empty.hidden = data.mails.length > 0;
    empty.textContent = data.total === 0
      ? "No mail yet. Send one (through the relay or the SDK) and it appears here."
      : `No mail's recipient or subject contains “${state.query}”.`;
    const shown = data.mails.length;
    $("list-note").textContent = state.query
      ? `${data.matched} of ${data.total} mail(s) match` + (shown < data.matched ? `, newest ${shown} shown` : "")
      : (shown < data.total ? `newest ${shown} of ${data.total} shown` : "");
  }

  async function poll() {
    if (state.polling) {
      state.again = true;
      return;
    }
    state.polling = true;
    clearTimeout(state.timer);
    const asked = state.query;
    try {
      const params = new URLSearchParams({ q: asked });
      if (state.version !== null) params.set("version", state.version);
      const data = await getJson(`/_emulator/inbox?${params}`);
      setLive(true);
      if (data.changed && asked === state.query) {
        state.version = data.version;
        renderList(data);
        if (state.selected !== null) await openMail(state.selected, false);
        if (state.tab !== "mail") await loadTab(state.tab);
      }
    } catch (err) {
      setLive(false, err.message);
    } finally {
      state.polling = false;
      const wait = state.again ? 0 : POLL_MS;
      state.again = false;
      state.timer = setTimeout(poll, wait);
    }
  }

  // -- one mail ---------------------------------------------------------------------------------

  function meta(mail) {
    const rows = [
      ["From", mail.from],
      ["To", mail.to],
      ["Cc", (mail.cc || []).join(", ")],
      ["Bcc", (mail.bcc || []).join(", ")],
      ["Reply-To", mail.reply_to],
      ["Sent", `${when(mail.sent_at)} (${mail.sent_at})`],
      ["Message id", mail.message_id],
      ["Batch task", mail.task_id],
      ["Action", mail.action],
      ["Template", mail.template_id],
      ["Unsubscribe", mail.unsubscribe],
    ];
    const items = [];
    for (const [label, value] of rows) {
      if (value === null || value === undefined || value === "") continue;
      items.push(el("dt", { text: label }), el("dd", { text: value }));
    }
    return items;
  }

  function renderData(mail) {
    $("m-template").textContent = mail.template_id !== null
      ? `Template ${mail.template_id}, filled with:`
      : "Sent without a template (Simple content).";
    const rows = Object.entries(mail.template_data || {}).map(([key, value]) =>
      el("tr", {}, el("td", { class: "key", text: key }),
        el("td", { text: typeof value === "string" ? value : JSON.stringify(value) })));
    $("m-data").tBodies[0].replaceChildren(...rows);
    $("m-data").hidden = rows.length === 0;
  }

  function renderAttachments(id, mail, downloads) {
    const files = (mail.attachments || []).map((a, n) => el("li", {},
      downloads
        ? el("a", { href: `/_emulator/ui/mail/${id}/attachments/${n}`, download: a.file_name, text: a.file_name })
        : el("span", { class: "name", title: "the emulator kept its name and size, not its content", text: a.file_name }),
      ` ${size(a.size)}`));
    $("m-attachments").replaceChildren(...(files.length ? files : [el("li", { class: "empty", text: "No attachments." })]));
    $("m-attachment-count").textContent = files.length ? String(files.length) : "";
  }

  function renderMail(id, mail, downloads) {
    $("mail").hidden = false;
    $("m-subject").textContent = mail.subject;
    $("m-meta").replaceChildren(...meta(mail));
    const events = mail.events || [];
    $("m-events").replaceChildren(
      el("span", { class: "label", text: events.length ? "Delivery events:" : "No delivery events." }),
      ...events.map((e) => el("span", {
        class: `chip ${e.event} ${e.status}`,
        title: e.error ? `${callback(e.status, true)}: ${e.error}` : callback(e.status, true),
        text: `${e.event} · ${callback(e.status, false)}`,
      })));
    const frame = $("m-html");
    $("m-no-html").hidden = Boolean(mail.html);
    frame.hidden = !mail.html;
    if (state.shownHtmlOf !== id) {
      frame.src = mail.html ? `/_emulator/ui/mail/${id}.html` : "about:blank";
      state.shownHtmlOf = id;
    }
    $("m-text").textContent = mail.text || "(no text part)";
    renderData(mail);
    renderAttachments(id, mail, downloads);
    $("m-raw").textContent = JSON.stringify(mail, null, 2);
    for (const row of $("mails").tBodies[0].rows) {
      row.setAttribute("aria-selected", String(Number(row.dataset.id) === id));
    }
  }

  async function openMail(id, fromUser = true) {
    if (fromUser && state.selected !== id) {
      state.shownHtmlOf = null;
      history.replaceState(null, "", `#mail/${id}`);
    }
    state.selected = id;
    try {
      const data = await getJson(`/_emulator/inbox/${id}`);
      if (state.selected === id) renderMail(id, data.mail, data.downloads);
    } catch (err) {
      $("mail").hidden = true; // gone (the outbox was reset)
      state.selected = null;
      state.shownHtmlOf = null;
    }
  }

  function showPart(part) {
    state.part = part;
    for (const button of document.querySelectorAll(".parts [data-part]")) {
      button.setAttribute("aria-selected", String(button.dataset.part === part));
    }
    for (const box of document.querySelectorAll("div.part")) box.hidden = box.dataset.part !== part;
  }

  // -- tasks, groups, templates -----------------------------------------------------------------

  function taskRow(t) {
    const template = t.Template ? `${t.Template.TemplateID}` : "Simple";
    return el("tr", {},
      el("td", { text: t.TaskId }),
      el("td", { class: `status s${t.TaskStatus}`, text: TASK_STATUS[t.TaskStatus] || t.TaskStatus }),
      el("td", { text: TASK_TYPE[t.TaskType] || t.TaskType }),
      el("td", { class: "addr", text: t.FromEmailAddress }),
      el("td", { text: `${t.ReceiversName} (${t.ReceiverId})` }),
      el("td", { class: "subject", text: t.Subject }),
      el("td", { text: template }),
      el("td", { text: `${t.SendCount} / ${t.RequestCount}` }),
      el("td", { class: "time", text: t.CreateTime }),
      el("td", { class: "time", text: t.UpdateTime }),
      el("td", { text: t.ErrMsg }));
  }

  function groupBlock(g) {
    const members = (g.Members || []).map((m) => el("tr", {},
      el("td", { class: "addr", text: m.Email }),
      el("td", { text: m.Status === 1 ? "valid" : `invalid: ${m.Reason}` }),
      el("td", { class: "mono", text: m.TemplateData })));
    const table = el("table", { class: "kv" },
      el("thead", {}, el("tr", {}, el("th", { text: "Address" }), el("th", { text: "Status" }),
        el("th", { text: "TemplateData" }))),
      el("tbody", {}, ...members));
    const status = GROUP_STATUS[g.ReceiversStatus] || g.ReceiversStatus;
    return el("details", { class: "item" },
      el("summary", { text: `${g.ReceiversName} (${g.ReceiverId}): ${g.Count} address(es), ${status}` }),
      g.Desc ? el("p", { class: "note", text: g.Desc }) : null,
      table);
  }

  function templateBlock(t) {
    const status = TEMPLATE_STATUS[t.TemplateStatus] || t.TemplateStatus;
    const vars = t.Variables.length ? t.Variables.map((v) => `{{${v}}}`).join(" ") : "none";
    return el("details", { class: "item" },
      el("summary", { text: `${t.TemplateName} (${t.TemplateID}): ${status}` }),
      el("p", { text: `Variables: ${vars}` }),
      t.ReviewReason ? el("p", { class: "note", text: `Review: ${t.ReviewReason}` }) : null,
      el("h3", { text: "HTML" }), el("pre", { text: t.Html || "(none)" }),
      el("h3", { text: "Text" }), el("pre", { text: t.Text || "(none)" }));
  }

  // Re-rendering keeps the <details> the user opened open.
  function keepOpen(box, blocks) {
    const open = new Set([...box.querySelectorAll("details[open] > summary")].map((s) => s.textContent.split(":")[0]));
    for (const block of blocks) {
      if (open.has(block.firstChild.textContent.split(":")[0])) block.open = true;
    }
    box.replaceChildren(...blocks);
  }

  async function loadTab(tab) {
    try {
      if (tab === "tasks") {
        const data = await getJson("/_emulator/tasks");
        $("tasks").tBodies[0].replaceChildren(...data.tasks.map(taskRow));
        $("tasks-empty").hidden = data.tasks.length > 0;
      } else if (tab === "receivers") {
        const data = await getJson("/_emulator/receivers");
        keepOpen($("receivers"), data.receivers.map(groupBlock));
      } else if (tab === "templates") {
        const data = await getJson("/_emulator/templates");
        keepOpen($("templates"), data.templates.map(templateBlock));
      }
    } catch (err) {
      setLive(false, err.message);
    }
  }

  function showTab(tab) {
    state.tab = tab;
    for (const name of ["mail", "tasks", "receivers", "templates"]) {
      $(`tab-${name}`).setAttribute("aria-selected", String(name === tab));
      $(`panel-${name}`).hidden = name !== tab;
    }
    if (tab !== "mail") loadTab(tab);
  }

  // -- start ------------------------------------------------------------------------------------

  function start() {
    for (const name of ["mail", "tasks", "receivers", "templates"]) {
      $(`tab-${name}`).addEventListener("click", () => showTab(name));
    }
    for (const button of document.querySelectorAll(".parts [data-part]")) {
      button.addEventListener("click", () => showPart(button.dataset.part));
    }
    $("search").addEventListener("input", () => {
      state.query = $("search").value.trim();
      state.version = null; // a new question: the next answer is a full one
      poll();
    });
    const wanted = /^#mail\/(\d+)$/.exec(location.hash);
    if (wanted) openMail(Number(wanted[1]), false);
    poll();
  }

  start();
})();
