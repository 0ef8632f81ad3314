// Behaviour without inline handlers, so the Content-Security-Policy can forbid them.
document.addEventListener("change", function (event) {
  var el = event.target;
  if (el && el.matches && el.matches("select[data-autosubmit]") && el.form) {
    el.form.submit();
  }
});

// One key opens what a page marks with data-hotkey: a function key ("F2" opens the ringing
// call) works even while typing in a field, as the desk's search box keeps the focus.
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey || !/^F\d{1,2}$/.test(event.key || "")) {
    return;
  }
  var el = document.querySelector('[data-hotkey="' + event.key + '"]');
  if (el) {
    event.preventDefault();
    el.click();
  }
});

// A button marked data-print opens the browser's print dialog (the printable report), with no
// inline handler for the Content-Security-Policy to block.
document.addEventListener("click", function (event) {
  var el = event.target && event.target.closest ? event.target.closest("[data-print]") : null;
  if (el) {
    event.preventDefault();
    window.print();
  }
});
