// Open a local HTML file in headless Chromium; fail on console errors, page
// errors, failed requests or images that did not decode; save a screenshot.
// Usage: node check_page.cjs PAGE.html SCREENSHOT.png
// Chromium: $CHROMIUM, else /usr/bin/chromium (Debian's package).
const { chromium } = require("playwright-core");
const { pathToFileURL } = require("node:url");

const [page_path, screenshot] = process.argv.slice(2);

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const problems = [];
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  await page.goto(pathToFileURL(page_path).href, { waitUntil: "load" });
  const images = await page.$$eval("img", (all) =>
    all.map((image) => ({ alt: image.alt, width: image.naturalWidth }))
  );
  for (const image of images) {
    if (image.width === 0) problems.push(`image did not load: ${image.alt}`);
  }
  await page.screenshot({ path: screenshot, fullPage: true });
  await browser.close();
  console.log(JSON.stringify({ images: images.length, problems }));
  process.exit(problems.length ? 1 : 0);
})().catch((error) => {
  console.error(error);
  process.exit(2);
});
