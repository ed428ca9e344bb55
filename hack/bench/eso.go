package main

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// create creates obj, or with -eso-compat the ESO object of the same shape
// (field names are ESO's), which the operator serves through a baosync
// mirror of the same name: the tracker follows the mirrors.
func (s *scenario) create(ctx context.Context, obj client.Object) error {
	if !s.cfg.esoCompat {
		return s.cl.Create(ctx, obj)
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	u := &unstructured.Unstructured{Object: m}
	u.SetAPIVersion("external-secrets.io/v1")
	u.SetKind(obj.GetObjectKind().GroupVersionKind().Kind)
	if u.GetKind() == "" {
		u.SetKind(strings.TrimPrefix(fmt.Sprintf("%T", obj), "*v1alpha1."))
	}
	delete(u.Object, "status")
	return s.cl.Create(ctx, u)
}
