// MathJax reads this before it loads. Only \( \) and \[ \] delimit math: the server puts
// them around every formula, so a stray "$" in prose is never taken for math.
window.MathJax = {
  // Typeset the formulas in view first and the others as they scroll in (MathJax's own
  // IntersectionObserver extension): the catalog page alone holds one formula per card.
  // A page that is printed whole (<html data-typeset="all">) typesets everything at once.
  loader: { load: document.documentElement.dataset.typeset === "all" ? [] : ["ui/lazy"] },
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: false,
  },
  options: { enableMenu: true },
  startup: {
    pageReady() {
      return MathJax.startup.defaultPageReady().then(() => {
        document.documentElement.dataset.mathjax = "ready";
      });
    },
  },
};
