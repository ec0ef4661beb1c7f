// Every formula sits in an element of class "math" (the server's tex filter and the
// Markdown renderer both wrap it). The server typesets the catalog's formulas itself
// (app/typesetting.py), so most arrive as MathJax's HTML, on screen at the first paint.
// The rest arrive as TeX between \( \) or \[ \] (only those: a stray "$" in prose is never
// taken for math): formulas the server has no typesetting for, and math that htmx swaps
// in. This script loads MathJax for those, and only once one of them comes near the
// screen: many pages never need it.
//
// MathJax compiles whatever it is handed, in view or not, and a card can hold a hundred
// formulas: so it is handed only those within a screen of the viewport, and the others as
// they scroll near. A page that is printed whole (<html data-typeset="all">) has all its
// formulas typeset at once. When the formulas in view are shown, the page marks it
// (performance mark "mathjax-ready", <html data-mathjax="ready">).
const root = document.documentElement;
const typesetAll = root.dataset.typeset === "all";
const mathjaxSource = document.currentScript.dataset.mathjax;

let mathjaxStarted;
const mathjax = new Promise((resolve) => {
  mathjaxStarted = resolve;
});

window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: false,
  },
  // Sized as the server sizes them (app/typeset.js), not to the x-height of the text
  // around each: formulas typeset here and there look the same side by side.
  chtml: { matchFontHeight: false, scale: 1.25 },
  options: { enableMenu: true },
  startup: {
    typeset: false,
    pageReady() {
      mathjaxStarted(window.MathJax);
      return Promise.resolve();
    },
  },
};

let loading = false;

function loadMathJax() {
  if (!loading) {
    loading = true;
    const script = document.createElement("script");
    script.src = mathjaxSource;
    document.head.append(script);
  }
  return mathjax;
}

const handed = new WeakSet(); // math elements already given to MathJax
let typesetting = Promise.resolve();
let observer;

function untypeset(element) {
  return !handed.has(element) && element.querySelector("mjx-container") === null;
}

// One typeset at a time: MathJax.typesetPromise calls must not overlap.
function typeset(elements) {
  for (const element of elements) {
    handed.add(element);
    observer?.unobserve(element);
  }
  typesetting = typesetting
    .then(loadMathJax)
    .then((MathJax) => MathJax.typesetPromise(elements))
    .catch(console.error);
  return typesetting;
}

function mathIn(container) {
  const elements = container.matches(".math") ? [container] : [...container.querySelectorAll(".math")];
  return elements.filter(untypeset);
}

function observe(container) {
  const elements = mathIn(container);
  for (const element of elements) observer.observe(element);
  return elements.length;
}

// Resolves once the formulas in view when the page loads are typeset.
function typesetInView() {
  return new Promise((resolve) => {
    observer = new IntersectionObserver(
      (entries) => {
        const near = entries
          .filter((entry) => entry.isIntersecting && untypeset(entry.target))
          .map((entry) => entry.target);
        resolve(near.length ? typeset(near) : typesetting); // the first call decides
      },
      { rootMargin: "100% 0px" },
    );
    if (observe(document.body) === 0) resolve();
    // Content htmx swaps in (htmx:load fires for each new element) may hold math too.
    document.addEventListener("htmx:load", (event) => observe(event.target));
    window.addEventListener("beforeprint", typesetTheRest);
  });
}

function typesetTheRest() {
  const left = mathIn(document.body);
  return left.length ? typeset(left) : Promise.resolve();
}

function typesetPage() {
  return typesetAll ? typesetTheRest() : typesetInView();
}

// After the next frame's layout, the fonts of the formulas in view have been asked for, and
// document.fonts.ready waits for them. Read any sooner, it lays the page out on the spot,
// and again once the fonts are in.
function afterLayout() {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
}

// Resolves when the formulas in view are drawn; other scripts wait on it (sheet.js).
window.formulasDrawn = typesetPage()
  .then(afterLayout)
  .then(() => document.fonts.ready) // MathJax's fonts, for the formulas typeset on the server
  .then(() => {
    performance.mark("mathjax-ready"); // for timing from the navigation's start
    root.dataset.mathjax = "ready";
  });
