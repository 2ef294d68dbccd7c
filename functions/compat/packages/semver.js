import semver from 'semver';
export default {
  fetch() {
    return new Response(
      JSON.stringify({
        satisfies: semver.satisfies('1.2.3', '^1.0.0'),
        not: semver.satisfies('2.0.0', '^1.0.0'),
        max: semver.maxSatisfying(['1.0.0', '1.5.2', '2.0.0'], '~1.5'),
        inc: semver.inc('1.2.3', 'minor'),
        sorted: semver.sort(['1.10.0', '1.2.0', '1.9.9']),
      }),
    );
  },
};
