// The session page's timers (/mein-bereich/heute). Only an enhancement: without this file the page shows
// no timer at all (each is hidden until this script shows it) and every form works as before.
// Announcements go to a polite live region, and only now and then: when the timer starts, pauses or is
// reset, at each full minute left (minute timers, from 5 minutes down) and when the time is up.
(function () {
  "use strict";

  function format(seconds) {
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function setUp(box) {
    var total = parseInt(box.getAttribute("data-seconds"), 10);
    if (!(total > 0)) {
      return;
    }
    var display = box.querySelector(".session-timer-display");
    var status = box.querySelector(".session-timer-status");
    var start = box.querySelector("[data-action=start]");
    var pause = box.querySelector("[data-action=pause]");
    var reset = box.querySelector("[data-action=reset]");
    var left = total;
    var timer = null;
    var endsAt = 0;

    function say(text) {
      // A fresh text each time, so a screen reader reads a repeated message again.
      status.textContent = "";
      window.setTimeout(function () { status.textContent = text; }, 50);
    }

    function show() {
      display.textContent = format(left);
      start.disabled = timer !== null || left === 0;
      pause.disabled = timer === null;
      reset.disabled = timer === null && left === total;
    }

    function tick() {
      var now = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
      if (now === left) {
        return;
      }
      left = now;
      if (left === 0) {
        window.clearInterval(timer);
        timer = null;
        say(box.getAttribute("data-finished"));
      } else if (box.getAttribute("data-kind") === "minutes" && left % 60 === 0 && left <= 300) {
        var minutes = left / 60;
        say(minutes === 1 ? box.getAttribute("data-one-minute-left")
          : box.getAttribute("data-minutes-left").replace("{count}", String(minutes)));
      }
      show();
    }

    start.addEventListener("click", function () {
      if (timer !== null || left === 0) {
        return;
      }
      endsAt = Date.now() + left * 1000;
      timer = window.setInterval(tick, 250);
      say(box.getAttribute("data-started"));
      show();
      pause.focus();
    });
    pause.addEventListener("click", function () {
      if (timer === null) {
        return;
      }
      window.clearInterval(timer);
      timer = null;
      say(box.getAttribute("data-paused"));
      show();
      start.focus();
    });
    reset.addEventListener("click", function () {
      if (timer !== null) {
        window.clearInterval(timer);
        timer = null;
      }
      left = total;
      say(box.getAttribute("data-reset"));
      show();
      start.focus();
    });
    box.hidden = false;
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll(".session-timer[data-seconds]");
    for (var i = 0; i < boxes.length; i++) {
      setUp(boxes[i]);
    }
  });
})();
