// Package repocheck holds tests about the repository as a whole: it
// speaks of the software only, and its layers import downwards
// (core/ never imports plugins/). It has no code of its own.
package repocheck
