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

// A panel marked data-etag is polled conditionally (the desk's incoming call): each check
// sends the tag of what the panel shows and the panel's ticket, and a 304 (nothing changed)
// leaves the panel alone. One check in data-full-every goes without the ticket, through the
// whole page, which keeps the session's idle clock as any page does.
document.addEventListener("htmx:configRequest", function (event) {
  var el = event.detail.elt;
  var etag = el && el.getAttribute("data-etag");
  if (!etag) {
    return;
  }
  event.detail.headers["If-None-Match"] = etag;
  if (el.hasAttribute("data-wake")) {
    event.detail.headers["X-Desk-Ticket"] = el.getAttribute("data-ticket");
    return;
  }
  var checks = (Number(el.getAttribute("data-checks")) || 0) + 1;
  el.setAttribute("data-checks", String(checks));
  var fullEvery = Number(el.getAttribute("data-full-every")) || 1;
  var full = checks % fullEvery === 0;
  if (el.hasAttribute("data-waiting") && !full) {
    event.preventDefault(); // the long wait asks instead
    return;
  }
  if (!full && el.getAttribute("data-ticket")) {
    event.detail.headers["X-Desk-Ticket"] = el.getAttribute("data-ticket");
  }
});

// The long wait (`azukari desk_wait`), where the page names one: a panel with a ticket asks
// once and the answer comes when its call rings (200: the panel reloads through the page) or
// after a while with nothing (304: it asks again). While it waits the panel's own polls are
// skipped, but for the full check; when the wait cannot be reached the polls go on as before.
function waitForCalls(el, url) {
  var failures = 0;
  el.setAttribute("data-waiting", "");
  function ask() {
    if (!el.isConnected) {
      return;
    }
    var headers = {
      "If-None-Match": el.getAttribute("data-etag"),
      "X-Desk-Ticket": el.getAttribute("data-ticket"),
    };
    fetch(url, { headers: headers, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (response.status === 304) {
          failures = 0;
          ask();
        } else if (response.status === 200) {
          failures = 0;
          el.setAttribute("data-wake", "");
          var reload = htmx.ajax("GET", el.getAttribute("hx-get"), {
            source: el, target: el, swap: "innerHTML",
          });
          reload.finally(function () {
            el.removeAttribute("data-wake");
            ask();
          });
        } else {
          giveUp(response.status === 403);
        }
      })
      .catch(function () {
        giveUp(false);
      });
  }
  function giveUp(refused) {
    failures += 1;
    if (refused || failures >= 3) {
      el.removeAttribute("data-waiting"); // the panel polls again
    } else {
      window.setTimeout(ask, 5000 * failures);
    }
  }
  ask();
}
document.addEventListener("DOMContentLoaded", function () {
  var wait = document.querySelector('meta[name="azukari-desk-wait"]');
  if (!wait || !window.fetch) {
    return;
  }
  document.querySelectorAll("[data-etag][data-ticket]").forEach(function (el) {
    waitForCalls(el, wait.getAttribute("content"));
  });
});
document.addEventListener("htmx:beforeSwap", function (event) {
  var el = event.detail.elt;
  if (!el || !el.hasAttribute("data-etag")) {
    return;
  }
  var xhr = event.detail.xhr;
  if (xhr.status === 304) {
    event.detail.shouldSwap = false;
    return;
  }
  var etag = xhr.getResponseHeader("ETag");
  if (etag) {
    el.setAttribute("data-etag", etag);
  }
});
