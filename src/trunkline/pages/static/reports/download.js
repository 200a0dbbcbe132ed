// Downloads of authenticated answers. A plain link cannot carry the bearer token, so the
// page fetches the file, keeps it as a Blob and hands the browser an object URL to save.

import { request } from "../lib/api.js";

function fileName(response, fallback) {
  const header = response.headers.get("Content-Disposition") || "";
  const match = /filename="?([^";]+)"?/i.exec(header);
  return match ? match[1] : fallback;
}

/** "1.2 MB" */
export function sizeText(bytes) {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * GET `path` with `query` and save the answer as a file. The body is read as it streams
 * in, and `onProgress(bytes)` told as it grows, so a long export shows it is moving.
 * Resolves with {name, bytes}; rejects with the ApiError of a refused request.
 */
export async function download(path, query, { fallbackName, onProgress = () => {} } = {}) {
  const response = await request("GET", path, { query, raw: true });
  const type = response.headers.get("Content-Type") || "application/octet-stream";
  const chunks = [];
  let bytes = 0;
  if (response.body && response.body.getReader) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      bytes += value.byteLength;
      onProgress(bytes);
    }
  } else {
    const buffer = await response.arrayBuffer();
    chunks.push(buffer);
    bytes = buffer.byteLength;
  }
  const name = fileName(response, fallbackName);
  save(new Blob(chunks, { type }), name);
  return { name, bytes };
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // The browser has taken the file once the click is handled; free the memory later.
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}
