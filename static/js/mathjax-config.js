// MathJax reads this before it loads. Only \( \) and \[ \] delimit math: the server puts
// them around every formula, so a stray "$" in prose is never taken for math.
//
// Every formula sits in an element of class "math" (the server's tex filter and the
// Markdown renderer both wrap it). MathJax compiles whatever it is handed, in view or not,
// and a card holds a hundred formulas: so it is handed only those within a screen of the
// viewport, and the others as they scroll near. A page that is printed whole
// (<html data-typeset="all">) typesets everything at once.
const typesetAll = document.documentElement.dataset.typeset === "all";

window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: false,
  },
  options: { enableMenu: true },
  startup: {
    typeset: typesetAll,
    pageReady() {
      const typeset = typesetAll ? MathJax.startup.defaultPageReady() : typesetInView();
      return typeset.then(() => {
        performance.mark("mathjax-ready"); // for timing from the navigation's start
        document.documentElement.dataset.mathjax = "ready";
      });
    },
  },
};

const handed = new WeakSet(); // math elements already given to MathJax
let typesetting = Promise.resolve();
let observer;

// One typeset at a time: MathJax.typesetPromise calls must not overlap.
function typeset(elements) {
  for (const element of elements) {
    handed.add(element);
    observer.unobserve(element);
  }
  typesetting = typesetting.then(() => MathJax.typesetPromise(elements)).catch(console.error);
  return typesetting;
}

function observe(root) {
  const elements = root.matches(".math") ? [root] : root.querySelectorAll(".math");
  let count = 0;
  for (const element of elements) {
    if (handed.has(element)) continue;
    observer.observe(element);
    count += 1;
  }
  return count;
}

// Resolves once the formulas in view when the page loads are typeset.
function typesetInView() {
  return new Promise((resolve) => {
    observer = new IntersectionObserver(
      (entries) => {
        const near = entries
          .filter((entry) => entry.isIntersecting && !handed.has(entry.target))
          .map((entry) => entry.target);
        resolve(near.length ? typeset(near) : typesetting); // the first call decides
      },
      { rootMargin: "100% 0px" },
    );
    if (observe(document.body) === 0) resolve();
    // Content htmx swaps in (htmx:load fires for each new element) may hold math too.
    document.addEventListener("htmx:load", (event) => observe(event.target));
    window.addEventListener("beforeprint", () => {
      const left = [...document.querySelectorAll(".math")].filter((element) => !handed.has(element));
      if (left.length) typeset(left);
    });
  });
}
