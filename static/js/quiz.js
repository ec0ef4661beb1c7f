// Keyboard use of quizzes: 1–4 choose an option, Enter answers or goes on;
// and the mock exam's countdown. No effect on other pages.
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const form = document.querySelector("[data-quiz-form]");
  const typing = event.target instanceof HTMLInputElement && event.target.type !== "radio";
  if (form && !typing && /^[1-9]$/.test(event.key)) {
    const option = form.querySelectorAll('input[type="radio"]')[Number(event.key) - 1];
    if (option) {
      option.checked = true;
      option.focus();
      event.preventDefault();
    }
  } else if (event.key === "Enter" && form && !(event.target instanceof HTMLButtonElement)) {
    event.preventDefault();
    form.requestSubmit();
  } else if (event.key === "Enter" && !form) {
    const next = document.querySelector("[data-next]");
    if (next && event.target !== next) next.click();
  }
});

function tick(clock) {
  const left = Math.max(0, Date.parse(clock.dataset.deadline) - Date.now());
  const seconds = Math.floor(left / 1000);
  clock.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  if (left === 0) window.location.reload(); // the server then shows the results
}

document.querySelectorAll(".countdown[data-deadline]").forEach((clock) => {
  tick(clock);
  setInterval(() => tick(clock), 1000);
});

document.documentElement.dataset.quiz = "ready"; // keyboard handlers are attached
