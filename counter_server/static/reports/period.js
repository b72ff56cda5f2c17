// The period picker: typing a date selects "custom"; choosing a named period
// fills the date boxes with its dates (the server reads typed dates as custom).
(function () {
  var form = document.getElementById("rp-form");
  if (!form) return;
  var from = form.elements["from"], to = form.elements["to"];
  var custom = form.querySelector("input[name=period][value=custom]");
  [from, to].forEach(function (box) {
    box.addEventListener("input", function () { custom.checked = true; });
    box.addEventListener("change", function () { custom.checked = true; });
  });
  form.querySelectorAll("input[name=period]").forEach(function (radio) {
    radio.addEventListener("change", function () {
      if (radio.checked && radio.dataset.from) {
        from.value = radio.dataset.from;
        to.value = radio.dataset.to;
      }
    });
  });
})();
