// The media Trunkline routes, in the order pages list them, with their short names.

export const MEDIA = [
  { id: "voice", label: "Voice" },
  { id: "chat", label: "Chat" },
  { id: "email", label: "E-mail" },
  { id: "callback", label: "Callback" },
  { id: "fax", label: "Fax" },
  { id: "voicemail", label: "Voicemail" },
];

const LABELS = new Map(MEDIA.map((m) => [m.id, m.label]));

/** "email" -> "E-mail"; an unknown id as it is. */
export function mediumLabel(id) {
  return LABELS.get(id) ?? id ?? "";
}
