// Small progressive enhancements for forms on every page; every page works without them.
(function () {
  "use strict";

  // Show only the parts of the question form that the chosen type uses.
  var typeSelect = document.getElementById("qtype");
  if (typeSelect) {
    var sync = function () {
      document.querySelectorAll("[data-types]").forEach(function (section) {
        var types = section.getAttribute("data-types").split(" ");
        section.hidden = types.indexOf(typeSelect.value) === -1;
      });
    };
    typeSelect.addEventListener("change", sync);
    sync();
  }

  // "Select all on this page" for bulk actions.
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    var name = box.getAttribute("data-select-all");
    box.addEventListener("change", function () {
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (item) {
        item.checked = box.checked;
      });
    });
  });

  // Destructive actions ask first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  // Long operations (uploads, imports) say that they are working, and a second click
  // does not send the form again.
  document.querySelectorAll("form[data-progress]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var note = form.querySelector(".progress-note");
      if (note) {
        note.textContent = form.getAttribute("data-progress");
      }
      form.querySelectorAll("button[type=submit]").forEach(function (button) {
        window.setTimeout(function () { button.disabled = true; }, 0);
      });
      form.setAttribute("aria-busy", "true");
    });
  });

  // Character count under written answers.
  document.querySelectorAll("textarea[data-count-target]").forEach(function (area) {
    var target = document.getElementById(area.getAttribute("data-count-target"));
    var template = document.documentElement.lang === "en" ? "{n} characters" : "已输入 {n} 字";
    var update = function () {
      target.textContent = template.replace("{n}", Array.from(area.value.replace(/\s/g, "")).length);
    };
    area.addEventListener("input", update);
    update();
  });
})();
