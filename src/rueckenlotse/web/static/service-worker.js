// Rückenlotse's service worker, served at /sw.js (scope "/") with `const CONFIG = {...};` in front of
// this file (web/pages/pwa.py). Every page works without it; it only lets some pages open offline.
//
// The caching plan
// ----------------
// 1. Kept (cache CONFIG.cache, named by app, knowledge and static-file version, so an update replaces it;
//    older caches of ours are deleted on activate). On install the static files and the offline page; the
//    pages right after the worker took over, and whatever is still missing when it starts again:
//    - the static files (CSS, JavaScript, icons) and the manifest;
//    - the reading: /lesen and every /lesen/<module>, in every language (?lang=de, ?lang=en);
//    - the exercises: /uebungen, every /uebungen/<id> in every language and every drawing /uebungen/<id>.svg;
//    - the offline page /offline in every language.
//    These pages hold no personal data: they are fetched without cookies (credentials "omit") and with the
//    CONFIG.copyHeader header. A page that does not answer 200 is left out; the install never fails for it.
// 2. Used so: static files cache first (their URLs carry the version); the public pages network first and
//    from the cache only when the network fails. A page asked for without ?lang= is looked up in the
//    language the person last read in (told by pwa.js), then in German.
// 3. Never kept: everything else — the diary, the result, the questionnaire, the account pages, the API.
//    Those always go to the network; a page that cannot be loaded shows the offline page instead.
// 4. The plan (/mein-bereich/plan) only with the person's consent on the plan page: pwa.js then keeps it
//    in a cache of its own (CONFIG.planCache), which this worker reads only when the network fails, and
//    which is deleted when the person removes it, signs out, or deletes the account.
"use strict";

var LANG_KEY = "/__rueckenlotse/lang"; // where the last reading language is kept (in CONFIG.cache)

function isPublic(path) {
  return CONFIG.publicPaths.some(function (base) {
    return path === base || path.indexOf(base + "/") === 0;
  });
}

var KEEP_TIMEOUT_MS = 15000; // a page that does not answer in time is left out, the install goes on

function copyRequest(url, signal) {
  var headers = {};
  headers[CONFIG.copyHeader] = "1";
  return new Request(url, { credentials: "omit", headers: headers, cache: "no-store", signal: signal });
}

function keepOne(cache, url) {
  var abort = new AbortController();
  var timer = setTimeout(function () {
    abort.abort();
  }, KEEP_TIMEOUT_MS);
  return fetch(copyRequest(url, abort.signal))
    .then(function (response) {
      if (response.status === 200) {
        return cache.put(url, response);
      }
      return response.arrayBuffer().then(function () {
        return undefined; // read to the end, so the connection is free for the next
      });
    })
    .catch(function () {
      return undefined; // not there (yet): never a reason to fail the install
    })
    .then(function () {
      clearTimeout(timer);
    });
}

// Fetches the URLs not kept yet, a few at a time: gentle on the server, and the browser's connections stay
// free for the page.
function keepAll(urls, skipKept) {
  return caches.open(CONFIG.cache).then(function (cache) {
    var queue = urls.slice();
    function next() {
      var url = queue.shift();
      if (url === undefined) {
        return undefined;
      }
      var kept = skipKept ? cache.match(url) : Promise.resolve(undefined);
      return kept.then(function (hit) {
        return hit ? undefined : keepOne(cache, url);
      }).then(next);
    }
    return Promise.all([next(), next(), next(), next()]);
  });
}

// The pages are fetched after the worker took over (it answers at once, the reading follows within
// seconds), and once more whenever the worker starts again and a page asks (pwa.js): whatever is missing.
var filling = null;
function fillPages() {
  if (filling === null) {
    filling = keepAll(CONFIG.pages, true);
  }
  return filling;
}

self.addEventListener("install", function (event) {
  // The small part first: the static files and the offline page. A page that fails is left out.
  event.waitUntil(
    keepAll(CONFIG.static.concat(Object.values(CONFIG.offline)), false).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches
      .keys()
      .then(function (names) {
        return Promise.all(
          names
            .filter(function (name) {
              return name.indexOf(CONFIG.prefix) === 0 && name !== CONFIG.cache && name !== CONFIG.planCache;
            })
            .map(function (name) {
              return caches.delete(name);
            })
        );
      })
      .then(function () {
        return self.clients.claim();
      })
      .then(fillPages)
  );
});

self.addEventListener("message", function (event) {
  var data = event.data || {};
  if (data.type === "lang" && CONFIG.langs.indexOf(data.lang) >= 0) {
    event.waitUntil(
      caches
        .open(CONFIG.cache)
        .then(function (cache) {
          return cache.put(LANG_KEY, new Response(data.lang));
        })
        .then(fillPages)
    );
  }
});

function preferredLang() {
  return caches
    .open(CONFIG.cache)
    .then(function (cache) {
      return cache.match(LANG_KEY);
    })
    .then(function (response) {
      return response ? response.text() : CONFIG.langs[0];
    })
    .then(function (lang) {
      return CONFIG.langs.indexOf(lang) >= 0 ? lang : CONFIG.langs[0];
    });
}

function withLang(url, lang) {
  var copy = new URL(url.href);
  copy.searchParams.set("lang", lang);
  return copy.pathname + copy.search;
}

// The kept copy of a public page: ?lang= as asked, else the last reading language, else German.
function keptPage(url) {
  return caches.open(CONFIG.cache).then(function (cache) {
    if (url.searchParams.has("lang")) {
      return cache.match(url.pathname + url.search).then(function (hit) {
        return hit || cache.match(url.pathname, { ignoreSearch: true });
      });
    }
    return preferredLang().then(function (lang) {
      return cache.match(withLang(url, lang)).then(function (hit) {
        return hit || cache.match(withLang(url, CONFIG.langs[0]));
      });
    });
  });
}

function offlinePage() {
  return preferredLang().then(function (lang) {
    return caches.open(CONFIG.cache).then(function (cache) {
      return cache.match(CONFIG.offline[lang]).then(function (hit) {
        var text = "Sie sind offline. Im Notfall rufen Sie 112 an. / You are offline. In an emergency, call 112.";
        return hit || new Response(text, { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
      });
    });
  });
}

function keptPlan() {
  return caches.has(CONFIG.planCache).then(function (exists) {
    if (!exists) {
      return undefined;
    }
    return caches.open(CONFIG.planCache).then(function (cache) {
      return cache.match(CONFIG.plan, { ignoreSearch: true });
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") {
    return; // forms and the API go to the network untouched
  }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  var navigation = request.mode === "navigate";
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(
      caches.open(CONFIG.cache).then(function (cache) {
        return cache.match(request).then(function (hit) {
          if (hit) {
            return hit;
          }
          return fetch(request).catch(function () {
            // An older page (a kept plan) may name an older version of the same file.
            return cache.match(url.pathname, { ignoreSearch: true }).then(function (older) {
              return older || Response.error();
            });
          });
        });
      })
    );
    return;
  }
  if (isPublic(url.pathname)) {
    event.respondWith(
      fetch(request).catch(function () {
        return keptPage(url).then(function (hit) {
          return hit || (navigation ? offlinePage() : Response.error());
        });
      })
    );
    return;
  }
  if (url.pathname === CONFIG.plan && navigation) {
    event.respondWith(
      fetch(request).catch(function () {
        return keptPlan().then(function (hit) {
          return hit || offlinePage();
        });
      })
    );
    return;
  }
  if (navigation) {
    // Never kept: the network, or the offline page when there is none.
    event.respondWith(
      fetch(request).catch(function () {
        return offlinePage();
      })
    );
  }
});
