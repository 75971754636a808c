// Command etcd is etcd's own server entry point, built at the version k8s.io/kubernetes pins,
// so the real control plane needs no downloaded binary.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
