package scripting

// httpMethods are the functions of HTTP.
var httpMethods = []method{}

var httpNames = methodNames(httpMethods)
