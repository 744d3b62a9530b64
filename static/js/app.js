/* CRM web UI: small progressive enhancements. Everything works without this file; it adds keyboard
   shortcuts, menus that close, selection for bulk actions, the column chooser's drag order, the record
   picker and the address blocks. htmx sends the CSRF token from <body hx-headers>. */
(function () {
  "use strict";

  const $ = (sel, root) => (root || document).querySelector(sel);
  const $$ = (sel, root) => Array.from((root || document).querySelectorAll(sel));
  const msg = (key, fallback) => (document.body && document.body.dataset[key]) || fallback;
  const isTyping = (el) =>
    el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  /* ------------------------------------------------------------ keyboard: "/" focuses search */
  document.addEventListener("keydown", (event) => {
    if (event.key === "/" && !isTyping(document.activeElement) && !event.metaKey && !event.ctrlKey && !event.altKey) {
      const box = $("#global-q");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    }
    if (event.key === "Escape") {
      closeMenus();
      closeSearch();
      $$(".picker.is-open").forEach((p) => p.classList.remove("is-open"));
      const cancel = document.activeElement && document.activeElement.closest(".inline-form");
      if (cancel) {
        const button = $("[data-inline-cancel]", cancel);
        if (button) button.click();
      }
    }
  });

  /* ------------------------------------------------------------ global search dropdown */
  const searchForm = $("[data-global-search]");
  function closeSearch() {
    const dropdown = $("#search-dropdown");
    if (dropdown) dropdown.innerHTML = "";
    const box = $("#global-q");
    if (box) box.setAttribute("aria-expanded", "false");
  }
  if (searchForm) {
    const box = $("#global-q", searchForm);
    const dropdown = $("#search-dropdown", searchForm);
    const items = () => $$("a.search-item, a.search-all", dropdown);
    box.addEventListener("keydown", (event) => {
      const list = items();
      if (!list.length) return;
      const current = list.findIndex((a) => a.classList.contains("is-active"));
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const next = event.key === "ArrowDown" ? Math.min(current + 1, list.length - 1) : Math.max(current - 1, 0);
        list.forEach((a) => a.classList.remove("is-active"));
        list[next].classList.add("is-active");
        list[next].scrollIntoView({ block: "nearest" });
      } else if (event.key === "Enter" && current >= 0) {
        event.preventDefault();
        window.location.href = list[current].href;
      }
    });
    box.addEventListener("input", () => {
      if (!box.value.trim()) closeSearch();
    });
    document.addEventListener("htmx:afterSwap", (event) => {
      if (event.detail.target === dropdown) {
        box.setAttribute("aria-expanded", dropdown.children.length ? "true" : "false");
      }
    });
    document.addEventListener("click", (event) => {
      if (!searchForm.contains(event.target)) closeSearch();
    });
  }

  /* ------------------------------------------------------------ menus and popovers (<details data-menu>) */
  function closeMenus(except) {
    $$("details[data-menu][open]").forEach((d) => {
      if (d !== except && !d.contains(except)) d.removeAttribute("open");
    });
  }
  document.addEventListener("click", (event) => {
    const inside = event.target.closest("details[data-menu]");
    closeMenus(inside);
  });
  document.addEventListener("toggle", (event) => {
    const d = event.target;
    if (d.matches && d.matches("details[data-menu]") && d.open) closeMenus(d);
  }, true);

  /* ------------------------------------------------------------ mobile sidebar */
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-sidebar-toggle]")) {
      document.body.classList.add("nav-open");
      const scrim = $(".sidebar-scrim");
      if (scrim) scrim.hidden = false;
      $("[data-sidebar-toggle]").setAttribute("aria-expanded", "true");
    } else if (event.target.closest("[data-sidebar-close]")) {
      document.body.classList.remove("nav-open");
      const scrim = $(".sidebar-scrim");
      if (scrim) scrim.hidden = true;
      const toggle = $("[data-sidebar-toggle]");
      if (toggle) toggle.setAttribute("aria-expanded", "false");
    }
  });

  /* ------------------------------------------------------------ confirmations */
  document.addEventListener("click", (event) => {
    const el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  /* ------------------------------------------------------------ row selection and the bulk bar */
  function updateBulk(form) {
    const rows = $$("[data-select-row]", form);
    const checked = rows.filter((c) => c.checked);
    rows.forEach((c) => c.closest("tr").classList.toggle("is-selected", c.checked));
    const bar = $("[data-bulk-bar]", form);
    if (bar) {
      bar.hidden = checked.length === 0;
      const count = $("[data-bulk-count]", bar);
      if (count) count.textContent = String(checked.length);
    }
    const all = $("[data-select-all]", form);
    if (all) {
      all.checked = checked.length > 0 && checked.length === rows.length;
      all.indeterminate = checked.length > 0 && checked.length < rows.length;
    }
  }
  document.addEventListener("change", (event) => {
    const form = event.target.closest("[data-bulk-form]");
    if (!form) return;
    if (event.target.matches("[data-select-all]")) {
      $$("[data-select-row]", form).forEach((c) => { c.checked = event.target.checked; });
    }
    if (event.target.matches("[data-select-all], [data-select-row]")) updateBulk(form);
  });
  document.addEventListener("click", (event) => {
    const clear = event.target.closest("[data-bulk-clear]");
    if (!clear) return;
    const form = clear.closest("[data-bulk-form]");
    $$("[data-select-row], [data-select-all]", form).forEach((c) => { c.checked = false; });
    updateBulk(form);
  });
  let lastChecked = null;
  document.addEventListener("click", (event) => {
    const box = event.target.closest("[data-select-row]");
    if (!box) return;
    if (event.shiftKey && lastChecked && lastChecked !== box) {
      const rows = $$("[data-select-row]", box.closest("[data-bulk-form]"));
      const [a, b] = [rows.indexOf(lastChecked), rows.indexOf(box)].sort((x, y) => x - y);
      rows.slice(a, b + 1).forEach((c) => { c.checked = box.checked; });
      updateBulk(box.closest("[data-bulk-form]"));
    }
    lastChecked = box;
  });

  /* ------------------------------------------------------------ filter help: click a field to insert it */
  document.addEventListener("click", (event) => {
    const token = event.target.closest("[data-insert]");
    if (!token) return;
    const input = $("#list-filter");
    if (!input) return;
    const text = token.getAttribute("data-insert");
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    const before = input.value.slice(0, start);
    const glue = before && !/\s$/.test(before) ? (/\b(and|or|not|\()$/i.test(before.trim()) ? " " : " and ") : "";
    input.value = before + glue + text + " " + input.value.slice(end);
    input.focus();
    const pos = (before + glue + text + " ").length;
    input.setSelectionRange(pos, pos);
    closeMenus();
  });

  /* ------------------------------------------------------------ column chooser: drag to reorder */
  function initSortable(root) {
    if (!window.Sortable) return;
    $$("[data-sortable]", root).forEach((list) => {
      if (list.dataset.sortableReady) return;
      list.dataset.sortableReady = "1";
      window.Sortable.create(list, { handle: ".drag-handle", animation: 120, ghostClass: "sortable-ghost" });
    });
  }

  /* ------------------------------------------------------------ record picker */
  document.addEventListener("input", (event) => {
    const input = event.target.closest(".picker-input");
    if (!input) return;
    const picker = input.closest("[data-picker]");
    $("[data-picker-value]", picker).value = "";
    picker.classList.add("is-open");
  });
  document.addEventListener("focusin", (event) => {
    const input = event.target.closest && event.target.closest(".picker-input");
    if (input) input.closest("[data-picker]").classList.add("is-open");
  });
  document.addEventListener("click", (event) => {
    const option = event.target.closest(".picker-option");
    if (option) {
      const picker = option.closest("[data-picker]");
      $("[data-picker-value]", picker).value = option.dataset.value;
      $(".picker-input", picker).value = option.dataset.label;
      picker.classList.remove("is-open");
      $(".picker-input", picker).setAttribute("aria-expanded", "false");
      return;
    }
    $$(".picker.is-open").forEach((p) => { if (!p.contains(event.target)) p.classList.remove("is-open"); });
  });
  document.addEventListener("keydown", (event) => {
    const input = event.target.closest && event.target.closest(".picker-input");
    if (!input) return;
    const picker = input.closest("[data-picker]");
    const options = $$(".picker-option", picker);
    if (!options.length) return;
    const current = options.findIndex((o) => o.classList.contains("is-active"));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      picker.classList.add("is-open");
      const next = event.key === "ArrowDown" ? Math.min(current + 1, options.length - 1) : Math.max(current - 1, 0);
      options.forEach((o) => o.classList.remove("is-active"));
      options[next].classList.add("is-active");
    } else if (event.key === "Enter" && current >= 0 && picker.classList.contains("is-open")) {
      event.preventDefault();
      options[current].click();
    }
  });

  /* ------------------------------------------------------------ address blocks */
  document.addEventListener("click", (event) => {
    const add = event.target.closest("[data-address-add]");
    if (add) {
      const container = add.closest("[data-addresses]");
      const template = $("template[data-address-template]", container);
      const used = $$("[data-address] select, [data-address] input", container)
        .map((el) => (el.name.match(/^address-(\d+)-/) || [])[1])
        .filter(Boolean)
        .map(Number);
      const next = used.length ? Math.max(...used) + 1 : 0;
      const html = template.innerHTML.replace(/__i__/g, String(next));
      add.insertAdjacentHTML("beforebegin", html);
      const block = add.previousElementSibling;
      const first = block && $("input[type=text]", block);
      if (first) first.focus();
      return;
    }
    const remove = event.target.closest("[data-address-remove]");
    if (remove) {
      const block = remove.closest("[data-address]");
      const container = block.closest("[data-addresses]");
      if ($$("[data-address]", container).length > 1) {
        block.remove();
      } else {
        $$("input[type=text]", block).forEach((i) => { i.value = ""; });
      }
    }
  });

  /* ------------------------------------------------------------ copy to clipboard */
  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = $(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) return;
    navigator.clipboard.writeText(source.textContent.trim()).then(() => {
      const label = button.innerHTML;
      button.textContent = msg("msgCopied", "Copied");
      setTimeout(() => { button.innerHTML = label; }, 1600);
    });
  });

  /* ------------------------------------------------------------ flash messages */
  function initFlashes(root) {
    $$("[data-flash]", root).forEach((flash) => {
      if (flash.dataset.ready) return;
      flash.dataset.ready = "1";
      if (!flash.classList.contains("flash-error")) {
        setTimeout(() => flash.remove(), 6000);
      }
    });
  }
  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-dismiss]");
    if (close) close.closest("[data-flash]").remove();
  });

  /* ------------------------------------------------------------ htmx integration */
  document.addEventListener("htmx:configRequest", (event) => {
    if (!event.detail.headers["X-CSRFToken"]) {
      const token = csrfToken();
      if (token) event.detail.headers["X-CSRFToken"] = token;
    }
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const target = event.detail.target;
    const row = target && target.matches && target.matches(".field-row") ? target : null;
    const editing = document.querySelector(".field-row.is-editing .inline-form");
    if (editing && (!row || row.classList.contains("is-editing") || editing.closest(".field-row") === target)) {
      const input = $("input:not([type=hidden]), select, textarea", editing);
      if (input && !editing.dataset.focused) {
        editing.dataset.focused = "1";
        input.focus();
        if (input.select && input.type !== "date") input.select();
      }
    }
  });
  document.addEventListener("htmx:afterSettle", (event) => {
    initSortable(event.detail.target);
    initFlashes(document);
    const form = $("[data-bulk-form]");
    if (form) updateBulk(form);
  });
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr ? event.detail.xhr.status : 0;
    const region = $("#toasts");
    if (!region) return;
    const toast = document.createElement("div");
    toast.className = "toast";
    toast.setAttribute("role", "alert");
    toast.textContent = status === 403
      ? msg("msgForbidden", "You don’t have access to this.")
      : status === 404 ? msg("msgNotFound", "That record no longer exists.") : msg("msgError", "Something went wrong. Please try again.");
    region.appendChild(toast);
    setTimeout(() => toast.remove(), 5000);
  });
  document.addEventListener("htmx:sendError", () => {
    const region = $("#toasts");
    if (!region) return;
    const toast = document.createElement("div");
    toast.className = "toast";
    toast.textContent = msg("msgNetwork", "Network error: check your connection.");
    region.appendChild(toast);
    setTimeout(() => toast.remove(), 5000);
  });

  /* ------------------------------------------------------------ page load */
  function init() {
    initSortable(document);
    initFlashes(document);
    const form = $("[data-bulk-form]");
    if (form) updateBulk(form);
    const invalid = $(".record-form [aria-invalid=true], .settings-content [aria-invalid=true], .auth-form [aria-invalid=true]");
    if (invalid) invalid.focus();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
