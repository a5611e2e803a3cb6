// Progressive enhancement only: every page works without this file.
// Move focus to the error summary after a failed form submission, so keyboard and
// screen-reader users land on the list of what to correct.
document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
});

// The inbox's one-key shortcuts (j/k next and previous, r reply, a assign, c close, u list).
// Only where the page offers them, never while typing in a field, and they can be turned off
// (WCAG 2.1.4): the choice is kept in this browser.
(() => {
  const OFF_KEY = "narvaro.shortcuts.off";
  const isOff = () => window.localStorage.getItem(OFF_KEY) === "1";
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-shortcuts-off]").forEach((box) => {
      box.checked = isOff();
      box.addEventListener("change", () => {
        if (box.checked) window.localStorage.setItem(OFF_KEY, "1");
        else window.localStorage.removeItem(OFF_KEY);
      });
    });
  });
  const typing = (el) =>
    el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));
  const focusField = (id) => {
    const field = document.getElementById(id);
    if (field) {
      field.focus();
      return true;
    }
    return false;
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || isOff() || typing(event.target)) return;
    const key = event.key;
    const rows = Array.from(document.querySelectorAll("[data-shortcut-row]"));
    if (rows.length && (key === "j" || key === "k")) {
      const at = rows.indexOf(document.activeElement);
      const next = key === "j" ? Math.min(at + 1, rows.length - 1) : Math.max(at - 1, 0);
      rows[at === -1 ? 0 : next].focus();
      event.preventDefault();
      return;
    }
    if (key === "r" && focusField("id_text")) {
      event.preventDefault();
      return;
    }
    if (key === "a" && focusField("id_assignee")) {
      event.preventDefault();
      return;
    }
    const target = document.querySelector(`[data-shortcut="${CSS.escape(key)}"]`);
    if (target) {
      event.preventDefault();
      target.click();
    }
  });
})();

// A suggested earlier answer: "Use this" puts its text into the reply box.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-use-text]");
  if (!button) return;
  const box = document.getElementById("id_text");
  if (box) {
    box.value = button.dataset.useText;
    box.focus();
  }
});

// A saved reply loaded into the reply box by htmx: put the cursor in it.
document.addEventListener("htmx:afterSwap", (event) => {
  if (event.target.querySelector && event.target.querySelector("[data-focus-reply]")) {
    const box = document.getElementById("id_text");
    if (box) box.focus();
  }
});

// The inbox list refreshed in place ("show" after the new-messages poll): the link that was
// pressed is gone with the old list, so focus moves to the first conversation of the list
// (or to the refreshed list when it is empty) instead of falling back to the top of the page.
(() => {
  let refreshing = false;
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-show-news]")) refreshing = true;
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const elt = event.detail.elt;
    if (refreshing && elt && elt.matches("[data-show-news]") && !event.detail.successful) {
      refreshing = false; // nothing was swapped: a later poll must not move the focus
    }
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!refreshing) return;
    const live = document.getElementById("inbox-live");
    if (!live) return;
    refreshing = false;
    const first = live.querySelector("[data-shortcut-row]");
    if (first) {
      first.focus();
    } else {
      live.setAttribute("tabindex", "-1");
      live.focus();
    }
  });
})();

// The pollers of the inbox (the list's new-messages count, an open conversation's changes).
(() => {
  const POLLERS = ["news-poll", "conversation-poll"];
  const isPoller = (elt) => elt && POLLERS.includes(elt.id);
  const focusable = (region) =>
    Array.from(region.querySelectorAll("a[href], button, input, select, textarea, [tabindex]"));

  // Not while the tab is hidden: nobody reads it, and a poll that shows messages is logged.
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (document.hidden && isPoller(event.detail.elt)) event.preventDefault();
  });

  // A poll that redraws the region the person is in keeps their place in it (WCAG 2.4.3).
  let place = null;
  document.addEventListener("htmx:beforeSwap", (event) => {
    // beforeSwap comes for every answer; only a redraw (not a 204, 401 or 404) moves anything.
    if (!isPoller(event.detail.elt) || !event.detail.shouldSwap) return;
    const active = document.activeElement;
    const region =
      active &&
      active.closest(
        "#news-poll, #conversation-facts, #conversation-messages, #conversation-history",
      );
    place = region
      ? { id: region.id, href: active.getAttribute("href"), at: focusable(region).indexOf(active) }
      : null;
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    // A poll that redrew nothing leaves no place to restore for a later, unrelated swap.
    if (isPoller(event.detail.elt) && event.detail.xhr && event.detail.xhr.status !== 200) {
      place = null;
    }
  });
  document.addEventListener("htmx:afterSettle", () => {
    if (!place) return;
    const { id, href, at } = place;
    place = null;
    const region = document.getElementById(id);
    if (!region || region.contains(document.activeElement)) return;
    const candidates = focusable(region);
    const same = href && candidates.find((el) => el.getAttribute("href") === href);
    const target = same || candidates[Math.min(Math.max(at, 0), candidates.length - 1)];
    if (target) target.focus();
  });

  // A poll answered 404 (the conversation was moved out of the person's units) or 401 (the
  // session ended): say so in the live region, once, with a way on, and stop polling.
  document.addEventListener("htmx:responseError", (event) => {
    const poller = event.detail.elt;
    const status = event.detail.xhr.status;
    if (!isPoller(poller) || (status !== 404 && status !== 401)) return;
    const text = status === 401 ? poller.dataset.signedOutText : poller.dataset.goneText;
    const link = status === 401 ? poller.dataset.signInHref : poller.dataset.listHref;
    const notice = document.createElement("p");
    notice.className = "ds-paragraph";
    notice.textContent = `${text || ""} `;
    if (link) {
      const anchor = document.createElement("a");
      anchor.className = "ds-link";
      anchor.href = link;
      anchor.textContent = status === 401 ? poller.dataset.signInText : poller.dataset.listText;
      notice.appendChild(anchor);
    }
    const stopped = document.createElement("div");
    stopped.id = poller.id;
    stopped.appendChild(notice);
    poller.replaceWith(stopped);
    if (status === 404 && poller.id === "conversation-poll") {
      // Its actions would answer "not found" now: they are turned off (the text stays).
      document
        .querySelectorAll("main form[method=post] button, .saved-replies button")
        .forEach((button) => {
          button.disabled = true;
        });
    }
  });
})();
