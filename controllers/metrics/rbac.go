package metrics

// The metrics endpoint checks each scraper's bearer token with a TokenReview
// and its right to get /metrics with a SubjectAccessReview (main.go,
// --metrics-secure). controller-gen reads RBAC markers under ./controllers
// only, so they live here.

// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
