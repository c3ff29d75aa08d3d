// Page logic: talks to the worker; every error reaches the page as a message.
const status = document.getElementById("status");
const versions = document.getElementById("versions");
const worker = new Worker("worker.js");

worker.onmessage = ({ data }) => {
  if (data.type === "ready") {
    status.textContent = "Ready: the pure-Go engine runs in a Web Worker.";
    versions.replaceChildren();
    for (const [k, v] of Object.entries(data.version)) {
      const dt = document.createElement("dt");
      dt.textContent = k;
      const dd = document.createElement("dd");
      dd.textContent = v;
      versions.append(dt, dd);
    }
    versions.hidden = false;
  } else if (data.type === "error") {
    status.textContent = "Error: " + data.message;
    status.className = "error";
  }
};
worker.onerror = (e) => {
  status.textContent = "Worker failed: " + e.message;
  status.className = "error";
};
