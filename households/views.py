from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from households.selectors import household_list as select_households


@login_required
def household_list(request):
    households = select_households(user=request.user)[:50]
    return render(request, "households/list.html", {"households": households})
