import { fullFormats } from 'ajv-formats/dist/formats';
import { isDateTime, isDateTimeParts } from './validation';

describe('isDateTime', () => {
  const full = (fullFormats['date-time'] as { validate: (value: string) => boolean }).validate;

  it.each([
    '2026-12-02T10:00:00.000Z',
    '2026-12-02T10:00:00Z',
    '2024-02-29T23:59:59.999999Z',
    '2026-12-31T23:59:60Z',
    '2026-12-02T10:00:00+01:00',
    '2026-12-02t10:00:00z',
    '2026-12-02 10:00:00Z',
  ])('accepts %s, as the full RFC 3339 check does', (value) => {
    expect(isDateTime(value)).toBe(true);
    expect(full(value)).toBe(true);
  });

  it.each([
    '2026-02-29T10:00:00Z',
    '2026-13-02T10:00:00Z',
    '2026-12-00T10:00:00Z',
    '2026-04-31T10:00:00Z',
    '2026-12-02T24:00:00Z',
    '2026-12-02T10:60:00Z',
    '2026-12-02T10:00:60Z',
    '2026-12-02T10:00:00',
    '2026-12-02',
    '2026-12-02T10:00:00.Z',
    '2026-12-02T10:00:00.1a2Z',
    '2026-12-02T10:00:00,123Z',
    '2026-12-0aT10:00:00Z',
    '2026-12-02T10:00:00.123Zz',
    'yesterday',
    '',
  ])('rejects %s, as the full RFC 3339 check does', (value) => {
    expect(isDateTime(value)).toBe(false);
    expect(full(value)).toBe(false);
  });

  it('agrees with the full check on every canonical date and time of a leap and a common year', () => {
    const pad = (n: number, width = 2) => String(n).padStart(width, '0');
    for (const year of [2024, 2026, 1900, 2000]) {
      for (let month = 0; month <= 13; month++) {
        for (let day = 0; day <= 32; day++) {
          for (const [hour, minute, second] of [[0, 0, 0], [23, 59, 59], [23, 59, 60], [24, 0, 0], [12, 60, 0]]) {
            const value = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(second)}.123Z`;
            expect([value, isDateTime(value)]).toEqual([value, full(value)]);
          }
        }
      }
    }
  });

  it('agrees with the full check on every one-character change of a canonical value', () => {
    const characters = ['0', '1', '2', '3', '5', '9', '-', ':', '.', 'T', 't', 'Z', 'z', ' ', '+', 'a', '٣', ''];
    for (const base of ['2024-02-29T23:59:59.123Z', '2026-12-02T10:00:00Z']) {
      for (let index = 0; index <= base.length; index++) {
        for (const character of characters) {
          for (const value of [base.slice(0, index) + character + base.slice(index + 1), base.slice(0, index) + character + base.slice(index)]) {
            expect([value, isDateTime(value)]).toEqual([value, full(value)]);
          }
        }
      }
    }
  });
});

describe('isDateTimeParts', () => {
  it.each([
    [[2024, 2, 29, 23, 59, 59], true],
    [[2000, 2, 29, 0, 0, 0], true],
    [[2100, 2, 29, 0, 0, 0], false],
    [[2026, 4, 31, 0, 0, 0], false],
    [[2026, 12, 31, 23, 59, 60], false],
    [[2026, 13, 1, 0, 0, 0], false],
    [[-1, 1, 1, 0, 0, 0], false],
    [[2026, 1, 1, -1, 0, 0], false],
  ])('%j → %s', (parts, expected) => {
    const [year, month, day, hour, minute, second] = parts;
    expect(isDateTimeParts(year, month, day, hour, minute, second)).toBe(expected);
  });
});
