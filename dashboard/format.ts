// Small display helpers shared by the pages.
export const when = (at: string | number | null | undefined) => (at === null || at === undefined ? "—" : new Date(at).toLocaleString());
export const clock = (at: number) => new Date(at).toLocaleTimeString(undefined, { hour12: false });
export const entityHref = (type: string, id: string) => `#/entity?type=${encodeURIComponent(type)}&id=${encodeURIComponent(id)}`;
export const seconds = (s: number | null) => (s === null ? "—" : s < 1 ? `${Math.round(s * 1000)} ms` : `${s.toFixed(2)} s`);
