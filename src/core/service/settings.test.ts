import { describe, expect, it } from 'vitest';
import { routeMatches, serviceSettings, thresholdsFor } from './settings.js';

describe('service settings', () => {
  it('defaults: low 20 %, empty 10 %, silent after 2 d, alerts every 1 h, no routes', () => {
    const s = serviceSettings({});
    expect(s.thresholds.default).toEqual({ low: 20, empty: 10 });
    expect(thresholdsFor(s, 'drum')).toEqual({ low: 20, empty: 10 });
    expect(s.agentSilentMs).toBe(2 * 86_400_000);
    expect(s.alertIntervalMs).toBe(3_600_000);
    expect(s.minForecastSpanMs).toBe(3 * 86_400_000);
    expect(s.routes).toEqual([]);
  });

  it('a kind overrides the default; a half-given kind takes the rest from the default', () => {
    const s = serviceSettings({
      service: { supplies: { thresholds: { default: { low: 25, empty: 12 }, drum: { low: 10, empty: 3 }, waste: { empty: 5 } } } },
    });
    expect(thresholdsFor(s, 'toner')).toEqual({ low: 25, empty: 12 });
    expect(thresholdsFor(s, 'drum')).toEqual({ low: 10, empty: 3 });
    expect(thresholdsFor(s, 'waste')).toEqual({ low: 25, empty: 5 });
  });

  it.each([
    [{ supplies: { thresholds: { default: { low: 120 } } } }, /service\.supplies\.thresholds\.default\.low must be a number from 0 to 100/],
    [{ supplies: { thresholds: { default: { low: 5, empty: 10 } } } }, /empty 10 above low 5/],
    [{ supplies: { thresholds: { fuser: { low: 5 } } } }, /service\.supplies\.thresholds\.fuser is not a setting/],
    [{ silence: { agent: 'two days' } }, /service\.silence\.agent: 'two days' is not a duration/],
    [{ alerts: { routes: [{ to: ['desk at example'] }] } }, /service\.alerts\.routes\[0\]\.to\[0\] must be a mail address/],
    [{ alerts: { routes: [{ to: [] }] } }, /service\.alerts\.routes\[0\]\.to must be a non-empty list/],
    [{ alerts: { routes: [{ to: ['a@b.example'], severities: ['urgent'] }] } }, /severities\[0\] must be a severit/],
    [{ alerts: { route: [] } }, /service\.alerts\.route is not a setting/],
    ['yes', /service must be an object/],
  ])('refuses %j naming the field', (service, message) => {
    expect(() => serviceSettings({ service })).toThrow(message);
    try {
      serviceSettings({ service });
    } catch (error) {
      expect((error as { exitCode: number }).exitCode).toBe(2);
    }
  });

  it('routes match by severity and kind; an absent filter matches all', () => {
    const s = serviceSettings({
      service: {
        alerts: {
          routes: [
            { to: ['desk@service.example'], severities: ['critical'] },
            { to: ['toner@service.example'], kinds: ['supply-low', 'supply-empty'] },
          ],
        },
      },
    });
    const [desk, toner] = s.routes as [never, never];
    expect(routeMatches(desk, { kind: 'jam', severity: 'critical' })).toBe(true);
    expect(routeMatches(desk, { kind: 'supply-low', severity: 'warning' })).toBe(false);
    expect(routeMatches(toner, { kind: 'supply-low', severity: 'warning' })).toBe(true);
    expect(routeMatches(toner, { kind: 'jam', severity: 'critical' })).toBe(false);
  });
});
