// htmx (calculators that recompute as the learner types, quiz answers without a page load)
// is loaded once the page has loaded and its formulas are drawn. Its start-up searches the
// whole page for hx- attributes, 15 to 30 ms on a long card that the first paint no longer
// waits for. Until then the forms work as plain HTML forms. Once htmx has started, the page
// says so: <html data-htmx="ready">.
const htmxSource = document.currentScript.dataset.src;

const pageLoaded = new Promise((resolve) => {
  if (document.readyState === "complete") resolve();
  else window.addEventListener("load", resolve, { once: true });
});

// Not before the load event: htmx starts at once only in a complete document, and loaded
// after DOMContentLoaded but before the load event it would wait for the one that has passed.
Promise.allSettled([window.formulasDrawn, pageLoaded]).then(() => {
  const script = document.createElement("script");
  script.src = htmxSource;
  script.onload = () => {
    document.documentElement.dataset.htmx = "ready";
  };
  document.head.append(script);
});
