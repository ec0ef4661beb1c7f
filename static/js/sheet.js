// The formula sheet: once its formulas are typeset and drawn (static/js/mathjax-config.js),
// record each formula's width in ems of its own font size. Ems do not change between screen
// and print, so the stylesheet can shrink a wide formula to fit whatever column it lands in
// (see .sheet-equation in app.css). <html data-sheet="ready"> then says the sheet can be
// printed.
window.formulasDrawn.then(() => {
  for (const equation of document.querySelectorAll(".sheet-equation")) {
    const math = equation.querySelector("mjx-math");
    if (!math) continue;
    const em = parseFloat(getComputedStyle(equation).fontSize);
    equation.style.setProperty("--formula-ems", (math.getBoundingClientRect().width / em).toFixed(3));
  }
  document.documentElement.dataset.sheet = "ready";
});
