//go:build race

package externalsecret

// raceDetector is true when the tests run with -race.
const raceDetector = true
