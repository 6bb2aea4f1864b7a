package web

import (
	"net/http"

	"github.com/gatehouse/gatehouse"
)

// graphDirectoryRole is Graph's directoryRole: an activated directory role,
// here one of the built-in roles, whose id is its template ID.
type graphDirectoryRole struct {
	ODataType      string `json:"@odata.type"`
	ID             string `json:"id"`
	DisplayName    string `json:"displayName"`
	Description    string `json:"description"`
	RoleTemplateID string `json:"roleTemplateId"`
}

// handleMe is Graph's GET /me: the signed-in user of a delegated token.
func (s *server) handleMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := tenantFrom(r.Context())
		s.writeEntity(w, r, "users", s.toGraphUser(t, principalFrom(r.Context()).User))
	})
}

// handleMyDirectoryRoles is Graph's GET
// /me/memberOf/microsoft.graph.directoryRole: the directory roles the
// signed-in user holds, which the admin portal shows its navigation by.
func (s *server) handleMyDirectoryRoles() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opt, err := s.listQuery(r)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		var all []graphDirectoryRole
		for _, id := range principalFrom(r.Context()).Roles {
			if role, ok := gatehouse.RoleByID(id); ok {
				all = append(all, graphDirectoryRole{ODataType: "#microsoft.graph.directoryRole", ID: role.ID,
					DisplayName: role.DisplayName, Description: role.Description, RoleTemplateID: role.ID})
			}
		}
		roles, next, err := page(all, func(d graphDirectoryRole) string { return d.ID }, opt)
		if err != nil {
			s.writeAPIError(w, r, err)
			return
		}
		if roles == nil {
			roles = []graphDirectoryRole{}
		}
		s.writeCollection(w, r, "directoryObjects", roles, next)
	})
}
