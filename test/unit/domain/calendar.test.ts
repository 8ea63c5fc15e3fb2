import assert from 'node:assert/strict';
import { daysInMonth, isIsoDate, isLeapYear, isRealDate } from '../../../domain/calendar';

describe('calendar', () => {
  it('follows the Gregorian leap-year rule: every 4th year, except centuries not divisible by 400', () => {
    assert.deepEqual([1900, 2000, 2023, 2024, 2100].map(isLeapYear), [false, true, false, true, false]);
    assert.equal(daysInMonth(2024, 2), 29);
    assert.equal(daysInMonth(2023, 2), 28);
    assert.deepEqual(
      [1, 3, 4, 6, 9, 11, 12].map((m) => daysInMonth(2023, m)),
      [31, 31, 30, 30, 30, 30, 31],
    );
  });

  it('knows which days exist', () => {
    assert.equal(isRealDate(2024, 2, 29), true);
    assert.equal(isRealDate(2023, 2, 29), false);
    assert.equal(isRealDate(2023, 4, 31), false);
    assert.equal(isRealDate(2023, 0, 1), false);
    assert.equal(isRealDate(2023, 13, 1), false);
    assert.equal(isRealDate(2023, 1, 0), false);
    assert.equal(isRealDate(0, 1, 1), false);
    assert.equal(isRealDate(2023, 1.5, 1), false);
  });

  it('reads YYYY-MM-DD strictly', () => {
    assert.equal(isIsoDate('2024-02-29'), true);
    assert.equal(isIsoDate('2023-02-29'), false);
    assert.equal(isIsoDate('2024-2-29'), false);
    assert.equal(isIsoDate(' 2024-02-29'), false);
    assert.equal(isIsoDate('2024-02-29T00:00:00Z'), false);
  });
});
