// Typesets a batch of TeX into MathJax's CommonHTML, with the same MathJax the browser loads
// (static/vendor/mathjax-3.2.2, through its Node.js entry point). Run by app/typesetting.py:
//
//   node app/typeset.js MATHJAX_DIR FONT_URL < {"math": [[tex, display], ...]}
//   > {"html": [...one per formula, in order, null if it failed...], "stylesheet": "..."}
//
// The stylesheet covers exactly the characters of the batch (adaptiveCSS), so a batch is
// the whole catalog: its pages then need this one stylesheet and MathJax's fonts.
"use strict";
const path = require("path");

const [mathjaxDir, fontURL] = process.argv.slice(2).map(String);
// In the browser MathJax scales each formula to the x-height of the text around it: 123 to
// 127 % of its own size in our pages. Here there is no text to measure, so a fixed 125 %,
// as static/js/mathjax-config.js has the browser do too.
const SCALE = 1.25;

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const { math } = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const MathJax = await require(path.resolve(mathjaxDir, "node-main.js")).init({
    loader: {
      paths: { mathjax: path.resolve(mathjaxDir) },
      load: ["adaptors/liteDOM", "input/tex", "output/chtml", "a11y/assistive-mml"],
      versionWarnings: false,
    },
    chtml: { fontURL, adaptiveCSS: true, scale: SCALE },
    startup: { typeset: false },
  });
  const adaptor = MathJax.startup.adaptor;
  const html = [];
  for (const [tex, display] of math) {
    // The promise form loads TeX extensions (\boldsymbol, \cancel, ...) as they are met.
    // TeX errors come back typeset, as MathJax shows them; what throws (a \require of an
    // extension that is not there) is left to the browser: null, and said on stderr.
    try {
      html.push(adaptor.outerHTML(await MathJax.tex2chtmlPromise(tex, { display })));
    } catch (error) {
      process.stderr.write(`${JSON.stringify(tex)}: ${error.message.split("\n")[0]}\n`);
      html.push(null);
    }
  }
  const stylesheet = adaptor.textContent(MathJax.chtmlStylesheet());
  process.stdout.write(JSON.stringify({ html, stylesheet }));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exitCode = 1;
});
