// Small hooks shared by the three surfaces.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (v: T) => void;
}

/** Runs `fn` on mount and whenever `deps` change; stale results are dropped. */
export function useAsync<T>(fn: () => Promise<T>, deps: unknown[] = []): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const gen = useRef(0);
  useEffect(() => {
    const mine = ++gen.current;
    setLoading(true);
    fn().then(
      (v) => {
        if (gen.current !== mine) return;
        setData(v);
        setError(null);
        setLoading(false);
      },
      (e) => {
        if (gen.current !== mine) return;
        setError(e);
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload, setData };
}

/** Current location hash route ("#/keys" → "/keys"). */
export function useHashRoute(fallback: string): [string, (r: string) => void] {
  const read = () => {
    const h = window.location.hash.replace(/^#/, '');
    return h.startsWith('/') ? h : fallback;
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);
  const go = useCallback((r: string) => {
    if (window.location.hash !== '#' + r) window.location.hash = r;
    else setRoute(r);
  }, []);
  return [route, go];
}

export function useMediaQuery(q: string): boolean {
  const [m, setM] = useState(() => window.matchMedia(q).matches);
  useEffect(() => {
    const mq = window.matchMedia(q);
    const on = () => setM(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, [q]);
  return m;
}
