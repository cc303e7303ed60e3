package e2e_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/samverkan/samverkan/cmd/samverkan/internal/apptest"
	"github.com/samverkan/samverkan/internal/clock"
)

const registerOrg = `mutation($o: OrganisationInput!) { registerOrganisation(input: {organisation: $o}) { organisation { id name } } }`

const createAgreement = `mutation($body: ID!) { createAgreement(input: {name: "Överenskommelsen Värmland", publicBodyId: $body,
	firstVersion: {title: "Överenskommelse mellan Region Värmland och idéburen sektor", adoptedOn: "2018-01-30", decisionReference: "RS/2017:123"}}) {
	agreement { id currentVersion { id number revisionDue } } } }`

const applyToSign = `mutation($org: ID!, $ver: ID!) { applyToSign(input: {organisationId: $org, agreementVersionId: $ver,
	regionalPerspective: true, democraticValues: true, independent: true}) { instance { id state version } } }`

const instanceFields = `instance { id state version availableActions { name } }`

// story is the 2018 signing story's cast.
type story struct {
	env        *apptest.Env
	admin      *apptest.User
	official   *apptest.User
	version    string
	publicBody string
	ceremonyID string
	council    council
}

type instanceData struct {
	ID      string `json:"id"`
	State   string `json:"state"`
	Version int    `json:"version"`
}

func newStory(t *testing.T) *story {
	env := apptest.Start(t, apptest.Options{})
	s := &story{env: env, admin: env.NewUser("Ada Admin", "admin@*"), official: env.NewUser("Olle Official", "region_official@region")}
	var reg struct {
		RegisterOrganisation struct{ Organisation struct{ ID string } }
	}
	env.MustDo(s.official, registerOrg, map[string]any{"o": map[string]any{"name": "Region Värmland", "organisationNumber": "232100-0156",
		"legalForm": "OTHER", "sector": "PUBLIC"}}, &reg)
	var ag struct {
		CreateAgreement struct {
			Agreement struct {
				CurrentVersion struct {
					ID          string
					RevisionDue string
				}
			}
		}
	}
	env.MustDo(s.official, createAgreement, map[string]any{"body": reg.RegisterOrganisation.Organisation.ID}, &ag)
	require.Equal(t, "2023-01-30", ag.CreateAgreement.Agreement.CurrentVersion.RevisionDue, "revision due five years after adoption")
	s.version = ag.CreateAgreement.Agreement.CurrentVersion.ID
	s.publicBody = reg.RegisterOrganisation.Organisation.ID
	return s
}

// orgNumber makes the n-th valid organisation number of an ideell förening.
func orgNumber(n int) string {
	base := fmt.Sprintf("8020%05d", n)
	sum := 0
	for i, c := range base {
		d := int(c - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return fmt.Sprintf("%s-%s%d", base[:6], base[6:], (10-sum%10)%10)
}

// applicant is an organisation and its representative.
type applicant struct {
	rep      *apptest.User
	org      string
	instance string
}

func (s *story) apply(t *testing.T, n int) applicant {
	rep := s.env.NewUser(fmt.Sprintf("Rep %d", n))
	var reg struct {
		RegisterOrganisation struct{ Organisation struct{ ID string } }
	}
	s.env.MustDo(rep, registerOrg, map[string]any{"o": map[string]any{"name": fmt.Sprintf("Förening %02d", n),
		"organisationNumber": orgNumber(n), "legalForm": "IDEELL_FORENING", "sector": "IDEA_BASED", "municipality": "Karlstad"}}, &reg)
	var out struct {
		ApplyToSign struct{ Instance instanceData }
	}
	s.env.MustDo(rep, applyToSign, map[string]any{"org": reg.RegisterOrganisation.Organisation.ID, "ver": s.version}, &out)
	require.Equal(t, "applied", out.ApplyToSign.Instance.State)
	return applicant{rep: rep, org: reg.RegisterOrganisation.Organisation.ID, instance: out.ApplyToSign.Instance.ID}
}

func (s *story) act(t *testing.T, u *apptest.User, mutation, instance string, extra string) instanceData {
	t.Helper()
	q := fmt.Sprintf(`mutation($id: ID!) { %s(input: {instanceId: $id %s}) { %s } }`, mutation, extra, instanceFields)
	var out map[string]struct{ Instance instanceData }
	s.env.MustDo(u, q, map[string]any{"id": instance}, &out)
	return out[mutation].Instance
}

func (s *story) approve(t *testing.T, a applicant) {
	s.act(t, s.official, "startSigningReview", a.instance, "")
	in := s.act(t, s.official, "approveSigningApplication", a.instance, ", regionalPerspective: true, democraticValues: true, independent: true")
	require.Equal(t, "approved", in.State)
}

type signatoryList struct {
	Node struct {
		Signatories struct {
			TotalCount int
			Edges      []struct {
				Node struct {
					SignedOn     string
					How          string
					Organisation struct{ Name string }
					Ceremony     *struct{ Title string }
				}
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   string
			}
		}
	}
}

func (s *story) publicList(t *testing.T) signatoryList {
	var out signatoryList
	s.env.MustDo(nil, `query($v: ID!) { node(id: $v) { ... on AgreementVersion { signatories(first: 100) {
		totalCount edges { node { signedOn how organisation { name } ceremony { title } } } pageInfo { hasNextPage endCursor } } } } }`,
		map[string]any{"v": s.version}, &out)
	return out
}

func TestSigningStory2018(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	env := s.env

	var cer struct {
		CreateSigningCeremony struct{ Ceremony struct{ ID string } }
	}
	env.MustDo(s.official, `mutation($v: ID!) { createSigningCeremony(input: {agreementVersionId: $v, title: "Signeringsceremoni",
		heldOn: "2018-04-20", place: "Karlstad"}) { ceremony { id } } }`, map[string]any{"v": s.version}, &cer)

	var spring []applicant
	for n := 1; n <= 35; n++ {
		a := s.apply(t, n)
		s.approve(t, a)
		in := s.act(t, s.official, "attachToSigningCeremony", a.instance, fmt.Sprintf(", ceremonyId: %q", cer.CreateSigningCeremony.Ceremony.ID))
		require.Equal(t, "awaiting_ceremony", in.State)
		spring = append(spring, a)
	}
	require.Equal(t, 0, s.publicList(t).Node.Signatories.TotalCount, "nobody has signed before the ceremony")

	env.AdvanceTo(time.Date(2018, 4, 20, 10, 0, 0, 0, clock.Stockholm))
	list := s.publicList(t)
	require.Equal(t, 35, list.Node.Signatories.TotalCount)
	for _, e := range list.Node.Signatories.Edges {
		require.Equal(t, "2018-04-20", e.Node.SignedOn)
		require.Equal(t, "ceremony", e.Node.How)
		require.Equal(t, "Signeringsceremoni", e.Node.Ceremony.Title)
	}

	env.AdvanceTo(time.Date(2018, 9, 10, 10, 0, 0, 0, clock.Stockholm))
	for n := 36; n <= 50; n++ {
		a := s.apply(t, n)
		s.approve(t, a)
		in := s.act(t, a.rep, "signAgreement", a.instance, "")
		require.Equal(t, "signed", in.State)
	}
	list = s.publicList(t)
	require.Equal(t, 50, list.Node.Signatories.TotalCount)
	require.Equal(t, "2018-09-10", list.Node.Signatories.Edges[49].Node.SignedOn)

	env.AdvanceTo(time.Date(2018, 11, 5, 14, 0, 0, 0, clock.Stockholm))
	leaver := spring[6]
	in := s.act(t, leaver.rep, "withdrawSignature", leaver.instance, `, reason: "Föreningen har lagts ned."`)
	require.Equal(t, "withdrawn", in.State)
	require.Equal(t, 49, s.publicList(t).Node.Signatories.TotalCount)

	// The withdrawal is public: who, when and why, to anyone.
	var hist struct {
		Node struct {
			State   string
			History struct {
				Edges []struct {
					Node struct {
						Kind, Transition, Reason, At string
						Actor                        *struct{ Name string }
					}
				}
			}
		}
	}
	env.MustDo(nil, `query($id: ID!) { node(id: $id) { ... on WorkflowInstance { state history(first: 50) {
		edges { node { kind transition reason at actor { name } } } } } } }`, map[string]any{"id": leaver.instance}, &hist)
	require.Equal(t, "withdrawn", hist.Node.State)
	last := hist.Node.History.Edges[0].Node
	require.Equal(t, "withdraw", last.Transition)
	require.Equal(t, "Föreningen har lagts ned.", last.Reason)
	require.Equal(t, leaver.rep.Name, last.Actor.Name)
	require.True(t, strings.HasPrefix(last.At, "2018-11-05"), last.At)
	for _, e := range hist.Node.History.Edges {
		require.NotEqual(t, "start_review", e.Node.Transition, "the review is not public")
	}

	// The organisation's signing history.
	var org struct {
		Node struct {
			Signatures []struct{ SignedOn, EndedOn, EndedHow string }
		}
	}
	env.MustDo(nil, `query($id: ID!) { node(id: $id) { ... on Organisation { signatures { signedOn endedOn endedHow } } } }`,
		map[string]any{"id": leaver.org}, &org)
	require.Len(t, org.Node.Signatures, 1)
	require.Equal(t, "2018-04-20", org.Node.Signatures[0].SignedOn)
	require.Equal(t, "2018-11-05", org.Node.Signatures[0].EndedOn)
	require.Equal(t, "withdrawn", org.Node.Signatures[0].EndedHow)
}

func TestConcurrentIdenticalApprovalsRecordOne(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	a := s.apply(t, 1)
	s.act(t, s.official, "startSigningReview", a.instance, "")
	var wg sync.WaitGroup
	codes := make(chan string, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.env.Do(s.official, `mutation($id: ID!) { approveSigningApplication(input: {instanceId: $id,
				regionalPerspective: true, democraticValues: true, independent: true}) { instance { state } } }`, map[string]any{"id": a.instance})
			if len(r.Errors) > 0 {
				codes <- r.Errors[0].Code()
			} else {
				codes <- "OK"
			}
		}()
	}
	wg.Wait()
	close(codes)
	count := map[string]int{}
	for c := range codes {
		count[c]++
	}
	require.Equal(t, map[string]int{"OK": 1, "INVALID_TRANSITION": 49}, count)
	require.Equal(t, 1, s.env.Count(`SELECT count(*) FROM history_events WHERE transition = 'approve'`))
}

func TestConcurrentTransitionsOnDifferentInstancesAllApply(t *testing.T) {
	t.Parallel()
	s := newStory(t)
	var apps []applicant
	for n := 1; n <= 200; n++ {
		apps = append(apps, s.apply(t, n))
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(apps))
	for _, a := range apps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.env.Do(s.official, `mutation($id: ID!) { startSigningReview(input: {instanceId: $id}) { instance { state } } }`,
				map[string]any{"id": a.instance})
			if len(r.Errors) > 0 {
				errs <- fmt.Errorf("%s: %s", r.Errors[0].Code(), r.Errors[0].Message)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 200, s.env.Count(`SELECT count(*) FROM workflow_instances WHERE state = 'under_review'`))
	require.Equal(t, 200, s.env.Count(`SELECT count(*) FROM history_events WHERE transition = 'start_review'`))
}
