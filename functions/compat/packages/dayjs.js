import dayjs from 'dayjs';
export default {
  fetch() {
    const d = dayjs('2024-02-28T12:00:00Z');
    return new Response(
      JSON.stringify({
        next: d.add(1, 'day').toISOString(),
        leap: d.add(1, 'day').date(),
        diff: dayjs('2024-03-01T00:00:00Z').diff(dayjs('2024-01-01T00:00:00Z'), 'day'),
        format: d.format('YYYY-MM-DD'),
        valid: dayjs('not a date').isValid(),
      }),
    );
  },
};
