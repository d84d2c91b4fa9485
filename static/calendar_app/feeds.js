// The feeds page: Copy buttons. The clipboard API exists only in secure contexts (https or
// localhost); elsewhere, or when it is refused, the address is selected for the user to copy.
document.documentElement.classList.add("feeds-js"); // shows the Copy buttons, useless without JS

// The button shows the outcome in a word; the hidden live region tells screen readers in full.
function say(button, word, sentence) {
  const status = button.parentElement.querySelector(".copy-status");
  button.textContent = word;
  if (status) status.textContent = sentence;
  clearTimeout(button.resetting);
  button.resetting = setTimeout(() => {
    button.textContent = "Copy";
    if (status) status.textContent = "";
  }, 3000);
}

// Delegated, so that rows swapped in by htmx (after a rotation, a search) work as well.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  try {
    await navigator.clipboard.writeText(field.value);
    say(button, "Copied", "Copied");
  } catch {
    field.focus();
    field.select();
    say(button, "Selected", "Selected: press Ctrl+C (⌘C on a Mac) to copy");
  }
});

document.addEventListener("focusin", (event) => {
  if (event.target.matches(".feed-address input")) event.target.select();
});
