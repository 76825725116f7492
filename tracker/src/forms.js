// Form capture, on sites that turn it on: when a form is submitted, the contact fields a person
// typed about themselves (email, names, company, job title, phone). Never passwords, card or other
// secret fields, hidden fields, or anything inside [data-footfall-ignore]; nothing without an email.

const AUTOCOMPLETE = {
  email: "email",
  "given-name": "first_name",
  "family-name": "last_name",
  name: "name",
  organization: "company",
  "organization-title": "title",
  tel: "phone",
};
// By the field's name and id, first match wins.
const NAMES = [
  ["email", /e-?mail/],
  ["first_name", /first.?name|fname|given/],
  ["last_name", /last.?name|lname|surname|family/],
  ["company", /company|organi[sz]ation|business/],
  ["title", /job|title|position|role/],
  ["phone", /phone|mobile|\btel\b/],
  ["name", /(^|[^a-z])(full.?)?name([^a-z]|$)/],
];
const SKIP_TYPES = /password|hidden|file|submit|button|reset|image|checkbox|radio|range|color/;
const SECRET = /pass|card|cc-|ccnum|cvv|cvc|iban|ssn|secret|token|otp|pin(\b|code)/;

function fieldOf(el) {
  const type = (el.type || "").toLowerCase();
  const key = ((el.name || "") + " " + (el.id || "")).toLowerCase();
  const auto = (el.getAttribute("autocomplete") || "").toLowerCase();
  if (!el.value || SKIP_TYPES.test(type) || SECRET.test(key + " " + auto) || el.closest("[data-footfall-ignore]")) {
    return null;
  }
  if (type == "email") return "email";
  if (type == "tel") return "phone";
  return AUTOCOMPLETE[auto.split(" ").pop()] || (NAMES.find(([, re]) => re.test(key)) || [])[0];
}

export function watchForms(send) {
  document.addEventListener(
    "submit",
    (e) => {
      const form = e.target;
      if (!form || !form.elements || form.closest("[data-footfall-ignore]")) return;
      const data = {};
      for (const el of form.elements) {
        const field = fieldOf(el);
        if (field && !data[field]) data[field] = String(el.value).trim().slice(0, 255);
      }
      if (data.email) send(data);
    },
    true
  );
}
