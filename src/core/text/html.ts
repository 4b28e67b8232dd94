/**
 * The one HTML escape for outside text (agents, devices, mail) on its way into a page: the
 * text is first neutralised as for a terminal (showText: controls and bidi overrides written
 * visibly, `\x1b`, `\u202e`), then the five characters HTML gives a meaning to become
 * entities. The result is safe in element content and in a quoted attribute value; it is
 * never safe inside <script> or <style>, and no caller puts outside text there.
 */
import { showText } from './show.js';

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return showText(text).replace(/[&<>"']/g, (ch) => ENTITIES[ch] as string);
}
