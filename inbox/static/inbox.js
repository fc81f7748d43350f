// Live character and SMS segment count for answers, and canned replies. No build step.
(function () {
  var basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var extension = "^{}\\[~]|€\f";
  function count(text) {
    var gsm = true, units = 0, i;
    for (i = 0; i < text.length; i++) {
      var ch = text[i];
      if (basic.indexOf(ch) >= 0) units += 1;
      else if (extension.indexOf(ch) >= 0) units += 2;
      else { gsm = false; break; }
    }
    var single = 160, multi = 153;
    if (!gsm) { units = text.length; single = 70; multi = 67; }  // JS strings are UTF-16 already
    var segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / multi);
    return units + " karakter, " + segments + " SMS (" + (gsm ? "GSM-7" : "UCS-2") + ")";
  }
  function bind(area) {
    var out = document.querySelector('output[for="' + area.id + '"]');
    if (!out) return;
    var limit = parseInt(area.getAttribute("data-limit"), 10);
    var prefix = area.getAttribute("data-prefix") || "";  // "[code] agency: ", sent before the text
    var update = function () {
      var text = count(prefix + area.value.trim()), over = area.value.trim().length > limit;
      // Over the limit the form is not sent (nothing typed is lost): one message holds no more.
      area.setCustomValidity(over ? "Terlalu panjang: paling banyak " + limit + " karakter dalam satu pesan." : "");
      out.textContent = text + (limit ? "; paling banyak " + limit + " karakter" : "");
      out.classList.toggle("late", over);
    };
    area.addEventListener("input", update);
    update();
  }
  // The number of tickets waiting for the officer, in the menu: read now and every minute.
  function refreshTasks(badge) {
    fetch(badge.getAttribute("data-tasks"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) badge.textContent = data.jumlah; })
      .catch(function () {});
  }
  document.addEventListener("DOMContentLoaded", function () {
    // The queue's search and filters fold away on a phone; on a wider screen they stay open.
    if (window.matchMedia("(min-width: 40rem)").matches) {
      document.querySelectorAll("details[data-open-wide]").forEach(function (d) { d.open = true; });
    }
    var badge = document.querySelector("[data-tasks]");
    if (badge) {
      if (!badge.textContent.trim()) refreshTasks(badge);
      setInterval(function () { refreshTasks(badge); }, 60000);
    }
    document.querySelectorAll("textarea[data-count]").forEach(bind);
    document.querySelectorAll("select[data-insert]").forEach(function (select) {
      select.addEventListener("change", function () {
        var area = document.getElementById(select.getAttribute("data-insert"));
        if (!select.value || !area) return;
        area.value = area.value ? area.value + "\n" + select.value : select.value;
        area.dispatchEvent(new Event("input"));
        select.value = "";
      });
    });
  });
})();
