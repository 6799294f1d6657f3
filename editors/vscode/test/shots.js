// Screenshots of a "did you mean" diagnostic's hover (vscode-hover.png) and its quick-fix menu
// (vscode-quick-fix.png), in a real VS Code
// (code-server) driven by headless Chromium. Run it like ../shared/tools/editors/pw/shots.js,
// after vscode-check.sh has set up code-server, the extension and the workspace (demo.cdl holds
// `requires promotion from stagin`), with code-server running:
//   NODE_PATH=~/.cache/cdl-editors/pw/node_modules CDL_SHOTS=docs/images/editors \
//     node editors/vscode/test/shots.js "http://127.0.0.1:8080/?folder=$HOME/.cache/cdl-editors/ws"
// Exits non-zero when no quick fix offers `staging` (the server's code actions, issue 15 item 3).
"use strict";

const puppeteer = require("puppeteer-core");
const fs = require("fs");

const URL = process.argv[2] || "http://127.0.0.1:8080/";
const OUT = process.env.CDL_SHOTS || "shots";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function chord(page, ...keys) {
  for (const key of keys.slice(0, -1)) await page.keyboard.down(key);
  await page.keyboard.press(keys[keys.length - 1]);
  for (const key of keys.slice(0, -1).reverse()) await page.keyboard.up(key);
}

// Opens a file of the workspace by clicking it in the Explorer (quick open depends on the file
// search, which is slow on a busy machine).
async function openFile(page, name) {
  await page.waitForFunction(
    (n) => [...document.querySelectorAll(".explorer-folders-view .monaco-list-row")].some((r) => r.textContent.trim() === n),
    { timeout: 30000 },
    name
  );
  await page.evaluate((n) => {
    const row = [...document.querySelectorAll(".explorer-folders-view .monaco-list-row")].find((r) => r.textContent.trim() === n);
    row.dispatchEvent(new MouseEvent("mousedown", { bubbles: true }));
    row.click();
  }, name);
  await page.waitForFunction(
    (n) => document.querySelector(".tab.active") && document.querySelector(".tab.active").textContent.includes(n),
    { timeout: 30000 },
    name
  );
  await sleep(500);
}

(async () => {
  fs.mkdirSync(OUT, { recursive: true });
  const browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--window-size=1400,900", "--disable-dev-shm-usage"],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  await page.goto(URL, { waitUntil: "domcontentloaded", timeout: 60000 });
  await page.waitForSelector(".monaco-workbench", { timeout: 90000 });
  await sleep(3000);
  await openFile(page, "demo.cdl");
  await page.waitForSelector(".squiggly-error", { timeout: 30000 });
  await sleep(1500);
  // the squiggle under `stagin`
  const target = await page.evaluate(() => {
    for (const squiggle of document.querySelectorAll(".squiggly-error")) {
      const q = squiggle.getBoundingClientRect();
      for (const span of document.querySelectorAll(".view-line span span")) {
        const r = span.getBoundingClientRect();
        if (Math.abs(r.y - q.y) < 12 && r.x < q.x + q.width - 1 && r.x + r.width > q.x + 1 && span.textContent.includes("stagin")) {
          return { x: q.x + q.width / 2, y: r.y + r.height / 2 };
        }
      }
    }
    return null;
  });
  if (!target) throw new Error("no squiggle under `stagin`");
  // the hover of the diagnostic: code, message and help
  await page.mouse.move(10, 10);
  await sleep(300);
  await page.mouse.move(target.x, target.y);
  await sleep(400);
  await page.mouse.move(target.x + 1, target.y + 1);
  const hovered = await page
    .waitForSelector(".monaco-hover:not(.hidden) .hover-contents, .monaco-hover:not(.hidden) .hover-row", { timeout: 10000 })
    .then(() => true)
    .catch(() => false);
  await sleep(1000);
  await page.screenshot({ path: `${OUT}/vscode-hover.png` });
  console.log(hovered ? "PASS: the diagnostic's hover shows" : "FAIL: no hover on the diagnostic");
  await page.mouse.move(10, 10);
  await sleep(300);
  await page.mouse.click(target.x, target.y);
  await sleep(500);
  await chord(page, "Control", "Period");
  const shown = await page
    .waitForSelector(".action-widget .monaco-list-row, .context-view .monaco-list-row", { timeout: 10000 })
    .then(() => true)
    .catch(() => false);
  await sleep(800);
  const entries = await page.evaluate(() =>
    [...document.querySelectorAll(".action-widget .monaco-list-row, .context-view .monaco-list-row")].map((e) => e.innerText.trim())
  );
  console.log("quick-fix menu:", JSON.stringify(entries));
  await page.screenshot({ path: `${OUT}/vscode-quick-fix.png` });
  await browser.close();
  if (!hovered) process.exit(1);
  if (!shown || !entries.some((e) => e.includes("staging"))) {
    console.error("FAILED: no quick fix offers `staging`");
    process.exit(1);
  }
  console.log("PASS: the quick-fix menu offers `staging`");
})().catch((err) => {
  console.error("FAILED:", err);
  process.exit(1);
});
