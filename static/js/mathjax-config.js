// MathJax reads this before it loads. Only \( \) and \[ \] delimit math: the server puts
// them around every formula, so a stray "$" in prose is never taken for math.
window.MathJax = {
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
