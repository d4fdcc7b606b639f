package api

// Version is the newest Clio API version the document describes, its info.version: the
// X-API-VERSION the client pins by default (clio.APIVersion) and the newest the fake
// (cliotest.LatestAPIVersion) serves. A test keeps it equal to openapi.yaml's; bump both
// when the reference moves on.
const Version = "4.0.10"
