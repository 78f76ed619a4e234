// Installing and reading offline (see the caching plan at the top of service-worker.js, served as /sw.js).
// Only an enhancement: without JavaScript or service workers every page works as before, just not offline.
"use strict";
(function () {
  // The plan's own cache: the same name as PLAN_CACHE in web/pages/pwa.py.
  var PLAN_CACHE = "rueckenlotse-plan";
  var PLAN_PATH = "/mein-bereich/plan";
  if (!("serviceWorker" in navigator) || !("caches" in window)) {
    return;
  }

  function dropPlan() {
    return caches.delete(PLAN_CACHE);
  }

  function planKept() {
    return caches.has(PLAN_CACHE).then(function (exists) {
      if (!exists) {
        return false;
      }
      return caches.open(PLAN_CACHE).then(function (cache) {
        return cache.match(PLAN_PATH, { ignoreSearch: true }).then(function (hit) {
          return Boolean(hit);
        });
      });
    });
  }

  function keepPlan() {
    return caches.open(PLAN_CACHE).then(function (cache) {
      return fetch(PLAN_PATH, { credentials: "same-origin", cache: "no-store", redirect: "manual" }).then(
        function (response) {
          if (response.status !== 200) {
            throw new Error("plan not available");
          }
          return cache.put(PLAN_PATH, response);
        }
      );
    });
  }

  // Signed out (also after the account was deleted, or the session ran out): the kept plan goes.
  var session = document.body.getAttribute("data-session");
  var ready = session === "out" ? dropPlan() : Promise.resolve();

  ready.then(function () {
    return navigator.serviceWorker.register("/sw.js", { scope: "/" });
  }).catch(function () {
    return undefined; // no worker: the pages work as before
  });

  navigator.serviceWorker.ready.then(function (registration) {
    var lang = document.documentElement.lang;
    if (registration.active && lang) {
      registration.active.postMessage({ type: "lang", lang: lang });
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.querySelector("[data-offline-plan]");
    if (!box) {
      return;
    }
    var save = box.querySelector("[data-offline-plan-save]");
    var remove = box.querySelector("[data-offline-plan-remove]");
    var saved = box.querySelector("[data-offline-plan-saved]");
    var notSaved = box.querySelector("[data-offline-plan-not-saved]");
    var failed = box.querySelector("[data-offline-plan-failed]");

    function show(kept, error) {
      saved.hidden = !kept;
      remove.hidden = !kept;
      notSaved.hidden = kept;
      save.hidden = kept;
      failed.hidden = !error;
      box.setAttribute("data-state", kept ? "saved" : "not-saved");
    }

    planKept().then(function (kept) {
      box.hidden = false;
      show(kept, false);
      if (kept && navigator.onLine) {
        keepPlan().catch(function () {
          return undefined; // the kept copy stays as it was
        });
      }
    });
    save.addEventListener("click", function () {
      keepPlan().then(
        function () {
          show(true, false);
          saved.focus();
        },
        function () {
          show(false, true);
        }
      );
    });
    remove.addEventListener("click", function () {
      dropPlan().then(function () {
        show(false, false);
        notSaved.focus();
      });
    });
  });
})();
