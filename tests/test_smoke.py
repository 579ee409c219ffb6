def test_household_created_through_service_has_members(household_a):
    assert household_a.members.count() == 2
    assert household_a.number.startswith("520521100001")
