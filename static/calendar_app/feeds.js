// The feeds page: Copy buttons. The clipboard API exists only in secure contexts (https or
// localhost); elsewhere, or when it is refused, the address is selected for the user to copy.
document.documentElement.classList.add("feeds-js"); // shows the Copy buttons, useless without JS

function say(status, text) {
  if (!status) return;
  status.textContent = text;
  clearTimeout(status.clearing);
  status.clearing = setTimeout(() => { status.textContent = ""; }, 4000);
}

// Delegated, so that rows swapped in by htmx (after a rotation, a search) work as well.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  const status = button.parentElement.querySelector(".copy-status");
  try {
    await navigator.clipboard.writeText(field.value);
    say(status, "Copied");
  } catch {
    field.focus();
    field.select();
    say(status, "Selected: press Ctrl+C (⌘C on a Mac) to copy");
  }
});

document.addEventListener("focusin", (event) => {
  if (event.target.matches(".feed-address input")) event.target.select();
});
