// The statement form's claim preview: as the claim (or the expert, date, probability, strength) changes,
// ask the server how the claim would be read (as `forecast claim check` reads it), the weight it would get and the
// headline now and with the statement. The answer is put in as text (textContent), never as markup.
"use strict";
(function () {
  const form = document.getElementById("statement-form");
  const output = document.getElementById("claim-preview");
  if (!form || !output || !form.dataset.preview) return;
  let timer = null, asked = 0;
  const fields = ["expert", "date", "claim", "probability", "strength", "supersedes"];
  async function ask() {
    const claim = form.elements.claim.value.trim();
    if (!claim) { output.textContent = ""; return; }
    const query = new URLSearchParams();
    for (const name of fields) if (form.elements[name]) query.set(name, form.elements[name].value);
    const mine = ++asked;
    try {
      const response = await fetch(form.dataset.preview + "?" + query.toString(), {credentials: "same-origin"});
      const shown = await response.json();
      if (mine !== asked) return;
      output.classList.toggle("refused", Boolean(shown.refusal));
      output.textContent = shown.refusal ? "Refused: " + shown.refusal : [shown.reading, shown.weight, shown.headline].filter(Boolean).join(" ");
    } catch (error) {
      output.textContent = "";
    }
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 300); });
})();
